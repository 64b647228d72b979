package daemon

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/api/client"
	"github.com/bangerdev/banger/internal/model"
)

// serveTest serves td's API on a unix socket and returns a client for it.
func serveTest(t *testing.T, td *testDaemon) *client.Client {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "d.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: td.daemon.http.withCommon(td.daemon.http.routes())}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return client.New(sock)
}

// TestStreamedErrorsKeepTheirStatus: a streamed create that is refused
// reaches the client with the status a plain request would have had, both
// when it fails before any progress and when it fails after.
func TestStreamedErrorsKeepTheirStatus(t *testing.T) {
	td := newTestDaemon(t)
	c := serveTest(t, td)
	ctx := context.Background()
	create := func(req api.CreateVMRequest) (int, error) {
		events := 0
		req.NoWait, req.DiskSize = true, 1<<30
		_, err := c.CreateVM(ctx, req, func(api.Event) { events++ })
		return events, err
	}
	if _, err := create(api.CreateVMRequest{Name: "first"}); err != nil {
		t.Fatal(err)
	}
	// The answer is the VM's wire form (vmToAPI), as a read gives it.
	got, err := c.GetVM(ctx, "first")
	if err != nil || got.Name != "first" || got.State != api.StateRunning || got.IP == "" || got.DNSName != "first.vm" || got.Files.WorkDisk == "" {
		t.Fatalf("GET after create = %+v, %v", got, err)
	}
	started, err := c.StopVM(ctx, "first", nil)
	if err != nil || started.Name != "first" || started.State != api.StateStopped || started.Files.Overlay == "" {
		t.Fatalf("stop answered %+v, %v; want the stopped VM in its wire form", started, err)
	}
	if _, err := c.StartVM(ctx, "first", api.StartRequest{NoWait: true}, nil); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		req    api.CreateVMRequest
		is     func(error) bool
		status int
	}{
		{"name taken", api.CreateVMRequest{Name: "first"}, client.IsConflict, http.StatusConflict},
		{"missing image", api.CreateVMRequest{Name: "second", Image: "nope"}, client.IsNotFound, http.StatusNotFound},
		{"bad name", api.CreateVMRequest{Name: "Bad Name!"}, client.IsBadRequest, http.StatusBadRequest},
		{"bad memory", api.CreateVMRequest{Name: "third", MemoryMiB: 1}, client.IsBadRequest, http.StatusBadRequest},
	}
	for _, tc := range cases {
		if _, err := create(tc.req); !tc.is(err) || client.StatusOf(err) != tc.status {
			t.Errorf("%s: err = %v (status %d); want status %d", tc.name, err, client.StatusOf(err), tc.status)
		}
	}

	// Fails after progress was streamed: the error event carries 500.
	td.vmm.FailStart(errors.New("injected vmm failure"))
	events, err := create(api.CreateVMRequest{Name: "late"})
	if events == 0 || client.StatusOf(err) != http.StatusInternalServerError {
		t.Fatalf("late failure: %d events, err %v (status %d)", events, err, client.StatusOf(err))
	}
}

// TestStreamedUserErrorAfterProgress: a refusal decided after progress
// began keeps its 4xx status in the final event.
func TestStreamedUserErrorAfterProgress(t *testing.T) {
	td := newTestDaemon(t)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /op", func(w http.ResponseWriter, r *http.Request) {
		stream(w, func(rep api.Reporter) (any, error) {
			rep.Step(1, 2, "working")
			return nil, model.Conflict("changed under us; retry")
		})
	})
	sock := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: td.daemon.http.withCommon(mux)}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	var steps int
	err = client.New(sock).Stream(context.Background(), "POST", "/op", nil, func(e api.Event) {
		if e.Kind == api.EventStep {
			steps++
		}
	}, nil)
	if steps != 1 || !client.IsConflict(err) || err.Error() != "changed under us; retry" {
		t.Fatalf("steps %d, err %v (status %d)", steps, err, client.StatusOf(err))
	}
}
