package firecracker

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/detach"
	"github.com/bangerdev/banger/internal/vmm"
)

// apiRecorder is a firecracker API stand-in on a unix socket that records
// "METHOD /path body" and, for /snapshot/create, writes the files asked for.
type apiRecorder struct {
	mu   sync.Mutex
	reqs []string
	fail string // path answered with 400
}

func (a *apiRecorder) serve(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "fc.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.reqs = append(a.reqs, r.Method+" "+r.URL.Path+" "+string(b))
		fail := a.fail == r.URL.Path
		a.mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"fault_message":"injected"}`))
			return
		}
		if r.URL.Path == "/snapshot/create" {
			var p SnapshotCreateParams
			json.Unmarshal(b, &p)
			os.WriteFile(p.SnapshotPath, []byte("state"), 0o600)
			os.WriteFile(p.MemFilePath, []byte("memory"), 0o600)
		}
		w.WriteHeader(http.StatusNoContent)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sock
}

func (a *apiRecorder) requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.reqs...)
}

// sleeper is a live process standing in for firecracker.
func sleeper(t *testing.T, sock string) vmm.Handle {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go cmd.Wait()
	t.Cleanup(func() { cmd.Process.Kill() })
	st, err := detach.ProcStartTime(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	return vmm.Handle{Driver: Name, PID: cmd.Process.Pid, StartTime: st, ControlSocket: sock}
}

// TestSuspendPausesThenSnapshotsThenEnds: pause before create (the
// snapshot API's order), a full snapshot into the state dir, and the
// process ended.
func TestSuspendPausesThenSnapshotsThenEnds(t *testing.T) {
	rec := &apiRecorder{}
	h := sleeper(t, rec.serve(t))
	dir := filepath.Join(t.TempDir(), "state")
	d := New("")
	if err := d.Suspend(t.Context(), h, dir); err != nil {
		t.Fatal(err)
	}
	reqs := rec.requests()
	if len(reqs) != 2 || reqs[0] != `PATCH /vm {"state":"Paused"}` || !strings.HasPrefix(reqs[1], "PUT /snapshot/create ") ||
		!strings.Contains(reqs[1], `"snapshot_type":"Full"`) {
		t.Fatalf("requests = %q", reqs)
	}
	for _, f := range []string{SnapshotFileName, MemoryFileName} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("state file %s: %v", f, err)
		}
	}
	if !waitDead(d, h, 5*time.Second) {
		t.Fatal("process still runs after Suspend")
	}
}

// TestFailedSnapshotResumesTheGuest: a create error resumes the microVM,
// keeps the process and leaves no files.
func TestFailedSnapshotResumesTheGuest(t *testing.T) {
	rec := &apiRecorder{fail: "/snapshot/create"}
	h := sleeper(t, rec.serve(t))
	dir := filepath.Join(t.TempDir(), "state")
	d := New("")
	if err := d.Suspend(t.Context(), h, dir); err == nil || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("Suspend error = %v", err)
	}
	reqs := rec.requests()
	if len(reqs) != 3 || reqs[2] != `PATCH /vm {"state":"Resumed"}` {
		t.Fatalf("requests = %q", reqs)
	}
	if !d.Alive(h) {
		t.Fatal("process ended after a failed snapshot")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("files left: %v", entries)
	}
}

// TestLoadSnapshotInsteadOfBoot: a start from a saved state sends only
// /snapshot/load (logging is set on the command line) (with the File memory backend and
// resume_vm), never the boot configuration or InstanceStart.
func TestLoadSnapshotInsteadOfBoot(t *testing.T) {
	rec := &apiRecorder{}
	api := newAPIClient(rec.serve(t))
	dir := t.TempDir()
	for _, f := range []string{SnapshotFileName, MemoryFileName} {
		os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600)
	}
	spec := vmm.Spec{IncomingState: dir, Net: &vmm.NetIface{Tap: "tapnow", MAC: "06:00:00:00:00:01"}, VsockCID: 3}
	if err := loadSnapshot(t.Context(), api, spec, "/run/v.sock"); err != nil {
		t.Fatal(err)
	}
	reqs := rec.requests()
	if len(reqs) != 1 || !strings.HasPrefix(reqs[0], "PUT /snapshot/load") {
		t.Fatalf("requests = %q", reqs)
	}
	var load map[string]any
	if err := json.Unmarshal([]byte(strings.TrimPrefix(reqs[0], "PUT /snapshot/load ")), &load); err != nil {
		t.Fatalf("load request %q: %v", reqs[0], err)
	}
	mb, _ := load["mem_backend"].(map[string]any)
	if load["snapshot_path"] != filepath.Join(dir, SnapshotFileName) || load["resume_vm"] != true ||
		mb["backend_type"] != "File" || mb["backend_path"] != filepath.Join(dir, MemoryFileName) {
		t.Fatalf("load body = %v", load)
	}
	// The tap and vsock socket of now, whatever the snapshot recorded;
	// the deprecated enable_diff_snapshots is never sent.
	if b := reqs[0]; !strings.Contains(b, `"network_overrides":[{"iface_id":"eth0","host_dev_name":"tapnow"}]`) ||
		!strings.Contains(b, `"vsock_override":{"uds_path":"/run/v.sock"}`) || strings.Contains(b, "enable_diff_snapshots") {
		t.Fatalf("load body lacks the overrides: %s", b)
	}
	os.Remove(filepath.Join(dir, MemoryFileName))
	if err := loadSnapshot(t.Context(), api, spec, ""); err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Fatalf("load without memory file: %v", err)
	}
}
