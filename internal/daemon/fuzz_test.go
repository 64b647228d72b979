package daemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/model"
)

// decodeTargets are the request bodies the daemon decodes, by the route
// that takes them; the fuzzer picks one with its first argument.
var decodeTargets = []func() any{
	func() any { return new(api.CreateVMRequest) },
	func() any { return new(api.SetVMRequest) },
	func() any { return new(api.KillRequest) },
	func() any { return new(api.StartRequest) },
	func() any { return new(api.BuildImageRequest) },
	func() any { return new(api.SuspendRequest) },
	func() any { return new(api.SnapshotRequest) },
	func() any { return new(api.RestoreRequest) },
	func() any { return new(api.CloneRequest) },
	func() any { return new(api.SaveImageRequest) },
}

// FuzzDecode feeds arbitrary bodies to the daemon's request decoding. It
// must never panic; every refusal must be a 400 user error whose one-line
// message reaches the client as the JSON error body; an accepted body must
// be valid JSON for the request type (or empty) whose keys are all the
// type's field names, exactly; and the decoded request must mean the same
// after an encode/decode round trip (an empty list and no list are the same
// request: omitempty sends neither).
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		newReq := decodeTargets[int(which)%len(decodeTargets)]
		v := newReq()
		r := httptest.NewRequest(http.MethodPost, "/v1/vms", bytes.NewReader(body))
		err := decode(r, v)
		if err != nil {
			var ue *model.Error
			if !errors.As(err, &ue) || ue.Kind != model.KindInvalid {
				t.Fatalf("decode error is not an invalid-request error: %T %v", err, err)
			}
			if ue.Msg == "" || strings.Contains(ue.Msg, "\n") {
				t.Fatalf("decode error message should be one non-empty line: %q", ue.Msg)
			}
			rec := httptest.NewRecorder()
			writeError(rec, err)
			var got api.Error
			if rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &got) != nil || got.Message != ue.Msg {
				t.Fatalf("client sees %d %q, want 400 with %q", rec.Code, rec.Body.String(), ue.Msg)
			}
			return
		}
		if len(body) == 0 {
			if !reflect.DeepEqual(v, newReq()) {
				t.Fatalf("empty body changed the request: %+v", v)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted a body that is not JSON: %q", body)
		}
		var keys map[string]json.RawMessage
		if json.Unmarshal(body, &keys) == nil {
			names := jsonNames(reflect.TypeOf(v).Elem())
			for k := range keys {
				if !names[k] {
					t.Fatalf("accepted unknown field %q in %q", k, body)
				}
			}
		}
		enc, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("decoded request does not encode: %v", err)
		}
		again := newReq()
		if err := json.Unmarshal(enc, again); err != nil || !reflect.DeepEqual(meaning(again), meaning(v)) {
			t.Fatalf("round trip changed the request: %+v -> %s -> %+v (%v)", v, enc, again, err)
		}
	})
}

// jsonNames is the set of JSON keys of struct type t.
func jsonNames(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names[name] = true
	}
	return names
}

// meaning is a copy of the request pointed to by v with empty slices made
// nil: the two are the same request.
func meaning(v any) any {
	c := reflect.New(reflect.TypeOf(v).Elem()).Elem()
	c.Set(reflect.ValueOf(v).Elem())
	for i := 0; i < c.NumField(); i++ {
		if f := c.Field(i); f.Kind() == reflect.Slice && f.Len() == 0 {
			f.SetZero()
		}
	}
	return c.Interface()
}
