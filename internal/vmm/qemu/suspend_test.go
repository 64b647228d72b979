package qemu

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRealSuspendResume saves a running guest to a file, checks qemu is
// gone, loads the state into a new qemu and finds the guest running; a
// corrupted state file fails the start with a clear error and no process.
// Any kernel will do (BANGER_TEST_KERNEL): the guest needs only to run.
func TestRealSuspendResume(t *testing.T) {
	kit := findBootKit(t)
	spec := bootSpec(t, kit)
	spec.Cmdline += " panic=0" // a rootless guest hangs instead of exiting
	d := New("")
	ctx := t.Context()
	h := startVM(t, ctx, d, spec)
	time.Sleep(2 * time.Second)
	stateDir := filepath.Join(spec.Dir, "state")
	start := time.Now()
	if err := d.Suspend(ctx, h, stateDir); err != nil {
		t.Fatalf("Suspend: %v", err)
	}
	t.Logf("suspend of %d MiB guest took %s", spec.MemoryMiB, time.Since(start))
	if d.Alive(h) {
		t.Fatal("qemu still runs after Suspend")
	}
	fi, err := os.Stat(filepath.Join(stateDir, StateFileName))
	if err != nil || fi.Size() < 1<<20 {
		t.Fatalf("state file: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(stateDir, StateFileName+".tmp")); err == nil {
		t.Fatal("temporary state file left behind")
	}

	spec.IncomingState = stateDir
	start = time.Now()
	h2 := startVM(t, ctx, d, spec)
	t.Logf("resume took %s", time.Since(start))
	st, err := Query(ctx, h2)
	if err != nil || !st.Running {
		t.Fatalf("after resume: %+v %v", st, err)
	}

	// A corrupt state: the start fails, says so, and leaves no qemu.
	if err := d.Suspend(ctx, h2, stateDir); err != nil {
		t.Fatalf("second Suspend: %v", err)
	}
	f, err := os.OpenFile(filepath.Join(stateDir, StateFileName), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("garbage garbage garbage"), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	h3, err := d.Start(cctx, spec)
	if err == nil {
		_ = d.Kill(h3, 9)
		t.Fatal("a corrupt state loaded")
	}
	if !strings.Contains(err.Error(), "saved state") {
		t.Fatalf("error does not name the saved state: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(spec.Dir, PIDFileName)); len(b) > 0 {
		t.Fatalf("pidfile of a failed start left behind: %s", b)
	}
}
