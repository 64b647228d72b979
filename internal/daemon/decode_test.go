package daemon

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/api/client"
)

// TestUnknownRequestFieldsRefused: a body with a field the daemon does not
// know, or a known one in the wrong case, is a 400 that names the field,
// and nothing is created.
func TestUnknownRequestFieldsRefused(t *testing.T) {
	td := newTestDaemon(t)
	c := serveTest(t, td)
	ctx := context.Background()
	for body, want := range map[string]string{
		`colour`: `unknown field "colour"`,
		`NAT`:    `unknown field "NAT"; field names are case-sensitive: did you mean "nat"?`,
	} {
		req := map[string]any{"name": "calm-otter", "no_wait": true, "disk_size": 1 << 30, body: true}
		err := c.Stream(ctx, http.MethodPost, "/v1/vms", req, nil, nil)
		if !client.IsBadRequest(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v; want a 400 saying %q", body, err, want)
		}
	}
	if vms, err := c.ListVMs(ctx); err != nil || len(vms) != 0 {
		t.Fatalf("refused requests left VMs: %v %v", vms, err)
	}
}
