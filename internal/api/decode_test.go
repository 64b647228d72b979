package api

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// requestTypes are the bodies clients send (internal/api/client marshals
// them with encoding/json); TestRequestTypesListed keeps the list complete.
var requestTypes = []any{
	&CreateVMRequest{}, &SetVMRequest{}, &KillRequest{}, &StartRequest{},
	&SuspendRequest{}, &SnapshotRequest{}, &RestoreRequest{}, &CloneRequest{},
	&BuildImageRequest{}, &SaveImageRequest{},
}

func TestDecodeRequestRefusesUnknownFields(t *testing.T) {
	cases := []struct {
		body string
		want []string
	}{
		{`{"0000":"00000","packages":[]}`, []string{`unknown field "0000"`, "this request takes base, docker, name, packages, size"}},
		{`{"name":"x","pACkAges":[]}`, []string{`unknown field "pACkAges"`, `did you mean "packages"?`}},
		{`{"Name":"x"}`, []string{`unknown field "Name"`, `did you mean "name"?`}},
		{`["x"]`, []string{"the body is a JSON array; send a JSON object"}},
		{`"x"`, []string{"the body is a JSON string; send a JSON object"}},
		{`{"name":"x"} {}`, []string{"invalid character"}},
		{`{"name":1}`, []string{"cannot unmarshal number"}},
	}
	for _, c := range cases {
		req := BuildImageRequest{Name: "before"}
		err := DecodeRequest([]byte(c.body), &req)
		if err == nil {
			t.Errorf("%s: accepted, want an error", c.body)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", c.body, err, w)
			}
		}
		if req.Name != "before" {
			t.Errorf("%s: a refused body changed the request: %+v", c.body, req)
		}
	}
}

func TestDecodeRequestAcceptsExactFields(t *testing.T) {
	var req BuildImageRequest
	if err := DecodeRequest([]byte(`{"name":"a","docker":true,"packages":["git"],"size":5}`), &req); err != nil {
		t.Fatal(err)
	}
	want := BuildImageRequest{Name: "a", Docker: true, Packages: []string{"git"}, Size: 5}
	if !reflect.DeepEqual(req, want) {
		t.Fatalf("got %+v, want %+v", req, want)
	}
	kept := StartRequest{Cold: true}
	for _, body := range []string{"", "null", "{}"} {
		if err := DecodeRequest([]byte(body), &kept); err != nil || !kept.Cold {
			t.Fatalf("%q: %v, %+v; want the request unchanged", body, err, kept)
		}
	}
}

// TestClientRequestsDecode sends every request type the way the client
// does, every field set, through the daemon's decoding: nothing the CLI or
// TUI sends may be refused as unknown, and nothing may be lost.
func TestClientRequestsDecode(t *testing.T) {
	for _, r := range requestTypes {
		v := reflect.New(reflect.TypeOf(r).Elem())
		fill(t, v.Elem())
		body, err := json.Marshal(v.Interface())
		if err != nil {
			t.Fatal(err)
		}
		got := reflect.New(v.Elem().Type())
		if err := DecodeRequest(body, got.Interface()); err != nil {
			t.Errorf("%T: the daemon refuses what the client sends (%s): %v", r, body, err)
			continue
		}
		if !reflect.DeepEqual(got.Elem().Interface(), v.Elem().Interface()) {
			t.Errorf("%T: sent %+v, decoded %+v", r, v.Elem(), got.Elem())
		}
	}
}

// fill sets every field of struct v to a non-zero value.
func fill(t *testing.T, v reflect.Value) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() == reflect.Pointer {
			f.Set(reflect.New(f.Type().Elem()))
			f = f.Elem()
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int64:
			f.SetInt(7)
		case reflect.Slice:
			f.Set(reflect.Append(reflect.MakeSlice(f.Type(), 0, 1), reflect.ValueOf("x")))
		default:
			t.Fatalf("fill: field %s has kind %s; extend fill", v.Type().Field(i).Name, f.Kind())
		}
	}
}

// TestRequestTypesListed finds every *Request struct declared in this
// package, so a new request body cannot miss TestClientRequestsDecode.
func TestRequestTypesListed(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok && strings.HasSuffix(ts.Name.Name, "Request") {
				if _, isStruct := ts.Type.(*ast.StructType); isStruct {
					declared = append(declared, ts.Name.Name)
				}
			}
			return true
		})
	}
	var listed []string
	for _, r := range requestTypes {
		listed = append(listed, reflect.TypeOf(r).Elem().Name())
	}
	sort.Strings(declared)
	sort.Strings(listed)
	if !reflect.DeepEqual(declared, listed) {
		t.Fatalf("request types declared %v, tested %v: add the new ones to requestTypes", declared, listed)
	}
}
