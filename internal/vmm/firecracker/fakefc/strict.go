package fakefc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// checkKeys walks body as serde does for a type with
// deny_unknown_fields: object keys must be field names exactly (Go's
// decoder would take "Vcpu_Count" for vcpu_count) and appear once. It
// returns serde's message, or "" (type errors are left to decode).
func checkKeys(body []byte, t reflect.Type) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if msg := walk(dec, t); msg != "" {
		return "An error occurred when deserializing the json body of a request: " + msg + "."
	}
	return ""
}

var rawMessage = reflect.TypeOf(json.RawMessage(nil))

// walk consumes one JSON value from dec, checking object keys against t.
func walk(dec *json.Decoder, t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return "" // syntax errors are decode's to report
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return ""
	}
	switch {
	case d == '{' && t.Kind() == reflect.Struct:
		fields := map[string]reflect.Type{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if name != "" && name != "-" {
				fields[name] = t.Field(i).Type
				names = append(names, "`"+name+"`")
			}
		}
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return ""
			}
			key, _ := kt.(string)
			ft, known := fields[key]
			switch {
			case !known:
				return fmt.Sprintf("unknown field `%s`, expected one of %s", key, strings.Join(names, ", "))
			case seen[key]:
				return fmt.Sprintf("duplicate field `%s`", key)
			}
			seen[key] = true
			if msg := walk(dec, ft); msg != "" {
				return msg
			}
		}
		_, _ = dec.Token()
	case d == '[' && t.Kind() == reflect.Slice && t != rawMessage:
		for dec.More() {
			if msg := walk(dec, t.Elem()); msg != "" {
				return msg
			}
		}
		_, _ = dec.Token()
	default:
		skipRest(dec)
	}
	return ""
}

// skipRest consumes the rest of the object or array just opened.
func skipRest(dec *json.Decoder) {
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
}

// validMAC is firecracker's MacAddr::from_str: six ':'-separated fields
// of exactly two hex digits.
func validMAC(s string) bool {
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return false
	}
	for _, p := range parts {
		if len(p) != 2 || !isHex(p[0]) || !isHex(p[1]) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
