package firecracker

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

// TestSuspendAndResumeThroughFakeFirecracker drives the real driver against
// fakefc, which enforces Firecracker's ordering: Suspend must pause before
// /snapshot/create, write both files and end the process; a start with
// IncomingState must load the snapshot on a fresh process (no boot
// configuration) and come back running, on a new tap if the old one is
// gone. A corrupted state is refused.
func TestSuspendAndResumeThroughFakeFirecracker(t *testing.T) {
	d := fakeDriver(t)
	spec := fakeSpec(t)
	h := startFake(t, d, spec)
	state := filepath.Join(t.TempDir(), "state")
	if err := d.Suspend(t.Context(), h, state); err != nil {
		t.Fatalf("suspend: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for d.Alive(h) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if d.Alive(h) {
		t.Fatal("firecracker still runs after suspend")
	}
	mem, err := os.Stat(filepath.Join(state, MemoryFileName))
	if err != nil || mem.Size() != int64(spec.MemoryMiB)<<20 {
		t.Fatalf("memory file: %v, %v; want %d MiB", mem, err, spec.MemoryMiB)
	}
	if _, err := os.Stat(filepath.Join(state, SnapshotFileName)); err != nil {
		t.Fatalf("snapshot file: %v", err)
	}

	resumed := spec
	resumed.IncomingState = state
	if spec.Net != nil {
		// The snapshot's tap is gone and the VM has a new one: the load
		// overrides it (firecracker would fail to open the old one).
		if l, err := netlink.LinkByName(spec.Net.Tap); err == nil {
			_ = netlink.LinkDel(l)
		}
		resumed.Net = fakeNet(t)
	}
	h2 := startFake(t, d, resumed)
	if !d.Alive(h2) {
		t.Fatal("resumed firecracker is not running")
	}
	if err := d.Suspend(t.Context(), h2, filepath.Join(t.TempDir(), "again")); err != nil {
		t.Fatalf("a resumed VM must be suspendable again (it runs, so pause works): %v", err)
	}

	// A snapshot file that is not one: the load is refused with the reason.
	if err := os.WriteFile(filepath.Join(state, SnapshotFileName), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Start(t.Context(), resumed); err == nil {
		t.Fatal("a corrupted snapshot was loaded")
	}
}
