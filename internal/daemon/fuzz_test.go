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
)

// decodeTargets are the request bodies the daemon decodes, by the route
// that takes them; the fuzzer picks one with its first argument.
var decodeTargets = []func() any{
	func() any { return new(api.CreateVMRequest) },
	func() any { return new(api.SetVMRequest) },
	func() any { return new(api.KillRequest) },
	func() any { return new(api.StartRequest) },
	func() any { return new(api.BuildImageRequest) },
}

// FuzzDecode feeds arbitrary bodies to the daemon's request decoding. It
// must never panic; every refusal must be a 400 user error whose one-line
// message reaches the client as the JSON error body; an accepted body must
// be valid JSON for the request type (or empty), and the decoded request
// must survive an encode/decode round trip unchanged.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		newReq := decodeTargets[int(which)%len(decodeTargets)]
		v := newReq()
		r := httptest.NewRequest(http.MethodPost, "/v1/vms", bytes.NewReader(body))
		err := decode(r, v)
		if err != nil {
			var ue *UserError
			if !errors.As(err, &ue) || ue.Status != http.StatusBadRequest {
				t.Fatalf("decode error is not a 400 user error: %T %v", err, err)
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
		enc, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("decoded request does not encode: %v", err)
		}
		again := newReq()
		if err := json.Unmarshal(enc, again); err != nil || !reflect.DeepEqual(again, v) {
			t.Fatalf("round trip changed the request: %+v -> %s -> %+v (%v)", v, enc, again, err)
		}
	})
}
