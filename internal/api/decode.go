package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// DecodeRequest decodes a request body into v, a pointer to one of the
// request structs, as strictly as the config file and Firecracker read
// theirs: an empty body leaves v as it is, the body must be one JSON object,
// and every key must be one of v's JSON field names exactly (case matters).
// An unknown key is refused with its name and, when only its case is off,
// the field it resembles, rather than ignored: a field the daemon does not
// know (a newer client's option, a typo) must not be dropped silently.
func DecodeRequest(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	names := fieldNames(reflect.TypeOf(v))
	if names != nil {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(body, &keys); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return fmt.Errorf("the body is a JSON %s; send a JSON object", te.Value)
			}
			return err
		}
		var unknown []string
		for k := range keys {
			if !names[k] {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return unknownField(unknown[0], names)
		}
	}
	return json.Unmarshal(body, v)
}

// unknownField names the refused key and what to send instead.
func unknownField(key string, names map[string]bool) error {
	for n := range names {
		if strings.EqualFold(n, key) {
			return fmt.Errorf("unknown field %q; field names are case-sensitive: did you mean %q?", key, n)
		}
	}
	known := make([]string, 0, len(names))
	for n := range names {
		known = append(known, n)
	}
	sort.Strings(known)
	return fmt.Errorf("unknown field %q; this request takes %s", key, strings.Join(known, ", "))
}

// fieldNames is the set of JSON keys a struct (or pointer to one) takes,
// or nil when t is not a struct.
func fieldNames(t reflect.Type) map[string]bool {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	names := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		names[name] = true
	}
	return names
}
