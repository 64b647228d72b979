package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/vmm/vmmfake"
)

// TestSnapshotOfARunningVMIsOneInstant: the VM is suspended for the copy
// and resumed; with --memory the snapshot keeps the state, and a restore
// leaves the VM suspended at that instant.
func TestSnapshotOfARunningVMIsOneInstant(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	vm, err := td.create(t, "snappy", false)
	if err != nil {
		t.Fatal(err)
	}
	_, h := td.fakeVM(t, "snappy")
	sn, err := td.createSnapshotNoWait(ctx, "snappy", api.SnapshotRequest{Name: "before", Memory: true})
	if err != nil {
		t.Fatal(err)
	}
	if !sn.Memory || sn.Method == "" {
		t.Fatalf("snapshot = %+v", sn)
	}
	if fv, _ := td.vmm.VM(h); !fv.Suspended {
		t.Fatal("the VM was not suspended for the copy")
	}
	if v, _ := td.store.GetVM(ctx, "snappy"); v.State != api.StateRunning {
		t.Fatalf("VM after snapshot: %s", v.State)
	}
	if got := td.disks.CopiedFrom(filepath.Join(sn.Dir, filepath.Base(vm.Files.WorkDisk))); got != vm.Files.WorkDisk {
		t.Fatalf("work disk copy made from %q", got)
	}
	if _, err := os.Stat(filepath.Join(sn.Dir, stateDirName, vmmfake.StateFileName)); err != nil {
		t.Fatalf("snapshot has no state: %v", err)
	}
	list, err := td.listSnapshots(ctx, "snappy")
	if err != nil || len(list) != 1 || list[0].Name != "before" {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if _, err := td.createSnapshotNoWait(ctx, "snappy", api.SnapshotRequest{Name: "before"}); statusOf(err) != 409 {
		t.Fatalf("duplicate snapshot name: %v", err)
	}

	if _, err := td.restoreSnapshot(ctx, "snappy", "before", false, api.NopReporter{}); statusOf(err) != 409 || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore into a running VM without --force: %v", err)
	}
	out, err := td.restoreSnapshot(ctx, "snappy", "before", true, api.NopReporter{})
	if err != nil {
		t.Fatal(err)
	}
	if out.State != api.StateSuspended || out.SavedState == nil {
		t.Fatalf("after restore with memory: %+v", out)
	}
	if got := td.disks.CopiedFrom(vm.Files.WorkDisk); got != filepath.Join(sn.Dir, filepath.Base(vm.Files.WorkDisk)) {
		t.Fatalf("work disk restored from %q", got)
	}
	if _, err := td.startVM(ctx, "snappy", false, false, api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	if fv, _ := td.fakeVM(t, "snappy"); fv.Spec.IncomingState == "" {
		t.Fatal("start after a memory restore booted cold")
	}
	// The snapshot's state survives the resume that spent the VM's copy.
	if _, err := os.Stat(filepath.Join(sn.Dir, stateDirName, vmmfake.StateFileName)); err != nil {
		t.Fatalf("snapshot state lost: %v", err)
	}

	if err := td.deleteSnapshot(ctx, "snappy", "before"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sn.Dir); !os.IsNotExist(err) {
		t.Fatalf("snapshot dir survived delete: %v", err)
	}
	if _, err := td.restoreSnapshot(ctx, "snappy", "before", true, api.NopReporter{}); statusOf(err) != 404 {
		t.Fatalf("restore of a deleted snapshot: %v", err)
	}
}

// TestSnapshotOfAStoppedVM refuses --memory and restores to stopped.
func TestSnapshotOfAStoppedVM(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	if _, err := td.create(t, "still", false); err != nil {
		t.Fatal(err)
	}
	if _, err := td.stopVM(ctx, "still", api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	if _, err := td.createSnapshotNoWait(ctx, "still", api.SnapshotRequest{Memory: true}); statusOf(err) != 400 {
		t.Fatalf("--memory of a stopped VM: %v", err)
	}
	sn, err := td.createSnapshotNoWait(ctx, "still", api.SnapshotRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sn.Name, "snap-") || sn.Memory {
		t.Fatalf("snapshot = %+v", sn)
	}
	out, err := td.restoreSnapshot(ctx, "still", sn.Name, false, api.NopReporter{})
	if err != nil || out.State != api.StateStopped {
		t.Fatalf("restore: %+v %v", out, err)
	}
}

// TestCloneHasANewIdentity: a clone of a stopped VM gets its own name,
// address, MAC, tap and host key, boots from copies of the source's disks,
// and a running source is refused.
func TestCloneHasANewIdentity(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	src, err := td.create(t, "origin", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := td.cloneVM(ctx, "origin", api.CloneRequest{Name: "copy", NoWait: true}, api.NopReporter{}); statusOf(err) != 409 {
		t.Fatalf("clone of a running VM: %v", err)
	}
	if _, err := td.suspendVM(ctx, "origin", false, api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	cl, err := td.cloneVM(ctx, "origin", api.CloneRequest{Name: "copy", NAT: true, NoWait: true}, api.NopReporter{})
	if err != nil {
		t.Fatal(err)
	}
	if cl.State != api.StateRunning || cl.IP == src.IP || cl.MAC == src.MAC || cl.Tap == src.Tap || !cl.NAT {
		t.Fatalf("clone = %+v\nsource = %+v", cl, src)
	}
	sv, _ := td.store.GetVM(ctx, "origin")
	cv, _ := td.store.GetVM(ctx, "copy")
	if cv.HostKeyPub == "" || cv.HostKeyPub == sv.HostKeyPub {
		t.Fatal("clone kept the source's host key")
	}
	if td.disks.CopiedFrom(cv.WorkDisk) != sv.WorkDisk || td.disks.CopiedFrom(cv.OverlayPath) != sv.OverlayPath {
		t.Fatal("clone's disks are not copies of the source's")
	}
	fv, _ := td.fakeVM(t, "copy")
	if fv.Spec.IncomingState != "" || !strings.Contains(fv.Spec.Cmdline, "banger.name=copy") {
		t.Fatalf("clone boot spec: incoming %q cmdline %q", fv.Spec.IncomingState, fv.Spec.Cmdline)
	}
	if sv.State != api.StateSuspended {
		t.Fatalf("source after clone: %s", sv.State)
	}
}

func (td *testDaemon) createSnapshotNoWait(ctx context.Context, name string, req api.SnapshotRequest) (*api.Snapshot, error) {
	req.NoWait = true
	return td.createSnapshot(ctx, name, req, api.NopReporter{})
}
