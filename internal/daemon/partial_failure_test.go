package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/storage"
	"github.com/bangerdev/banger/internal/store"
	"github.com/bangerdev/banger/internal/vmm"
)

// Failure after partial success: each test makes one step of an operation
// fail after the steps before it succeeded, then checks the end state a
// user relies on: what the operation made is gone, what existed before is
// kept (a VM's work disk is never lost), and the same operation succeeds
// once the cause is gone.

// assertNoTrace fails t when anything of the VM called name is left: its
// record, its address, a tap, a NAT rule, its directory, a disk or an
// active overlay in the fake storage.
func assertNoTrace(t *testing.T, td *testDaemon, name string) {
	t.Helper()
	ctx := context.Background()
	if _, err := td.store.GetVM(ctx, name); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("record of %s left behind: %v", name, err)
	}
	if ips, _ := td.store.UsedAddresses(ctx); len(ips) != 0 {
		t.Errorf("address left reserved: %v", ips)
	}
	if n := td.net.Taps(); n != 0 {
		t.Errorf("%d taps left behind", n)
	}
	if rules, _ := td.fw.List(ctx); len(rules) != 0 {
		t.Errorf("NAT rules left behind: %+v", rules)
	}
	if _, err := os.Stat(filepath.Join(td.layout.VMsDir, name)); !os.IsNotExist(err) {
		t.Errorf("VM dir left behind: %v", err)
	}
	for p := range td.disks.WorkDisks {
		t.Errorf("work disk %s left behind", p)
	}
	for p := range td.disks.Overlays {
		t.Errorf("overlay %s left behind", p)
	}
	for p, on := range td.disks.Active {
		if on {
			t.Errorf("overlay %s left active", p)
		}
	}
}

// inject makes step fail with errInjected: "vmm" the VMM start, any other
// name that storage method; "" stops failing.
func inject(td *testDaemon, step string) {
	td.disks.Fail = nil
	td.vmm.FailStart(nil)
	switch step {
	case "":
	case "vmm":
		td.vmm.FailStart(errInjected)
	default:
		td.disks.Fail = map[string]error{step: errInjected}
	}
}

// startedVMM watches the record of name until it names a VMM process
// and returns that handle on the channel (closed without one when ctx
// ends first).
func startedVMM(ctx context.Context, td *testDaemon, name string) <-chan vmm.Handle {
	ch := make(chan vmm.Handle, 1)
	go func() {
		defer close(ch)
		for ctx.Err() == nil {
			if v, err := td.store.GetVM(context.Background(), name); err == nil {
				if h, ok := v.Process(); ok {
					ch <- h
					return
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return ch
}

// TestCreateFailingAtEachStepLeavesNothing: a create (with NAT, on a
// device-mapper overlay so activation is a step of its own) that fails at
// any of its host steps undoes every step before it, returns the cause,
// and the same name can be created right after.
func TestCreateFailingAtEachStepLeavesNothing(t *testing.T) {
	for _, step := range []string{"CreateWorkDisk", "CreateOverlay", "ActivateOverlay", "vmm"} {
		t.Run(step, func(t *testing.T) {
			td := newTestDaemonWith(t, storage.KindDMSnapshot)
			inject(td, step)
			_, err := td.create(t, "doomed", true)
			if err == nil || !strings.Contains(err.Error(), errInjected.Error()) {
				t.Fatalf("create failing at %s: err = %v; want the injected cause", step, err)
			}
			assertNoTrace(t, td, "doomed")
			inject(td, "")
			if _, err := td.create(t, "doomed", true); err != nil {
				t.Fatalf("create after the failure was gone: %v", err)
			}
		})
	}
}

// TestCreateFailingAfterTheVMMStartedLeavesNothing: the VMM is running
// when the wait for SSH gives up (the fake guest never answers); the VMM
// is killed and everything else undone.
func TestCreateFailingAfterTheVMMStartedLeavesNothing(t *testing.T) {
	td := newTestDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	handles := startedVMM(ctx, td, "silent")
	_, err := td.createVM(ctx, api.CreateVMRequest{Name: "silent", NAT: true, DiskSize: 1 << 30}, api.NopReporter{})
	if err == nil {
		t.Fatal("create of a guest that never answers SSH succeeded")
	}
	h, ok := <-handles
	if !ok {
		t.Fatal("the VMM never ran: the failure did not come after it started")
	}
	if td.vmm.Alive(h) {
		t.Errorf("VMM pid %d still running after the failed create", h.PID)
	}
	assertNoTrace(t, td, "silent")
}

// TestStartFailingAtEachStepKeepsTheVM: a start of a stopped VM that fails
// at any step leaves the VM stopped with its disks and the reason, holds
// no tap, NAT rule, active overlay or VMM, and starts once the cause is
// gone.
func TestStartFailingAtEachStepKeepsTheVM(t *testing.T) {
	for _, step := range []string{"ActivateOverlay", "vmm"} {
		t.Run(step, func(t *testing.T) {
			td := newTestDaemonWith(t, storage.KindDMSnapshot)
			ctx := context.Background()
			vm, err := td.create(t, "keeper", true)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := td.stopVM(ctx, "keeper", api.NopReporter{}); err != nil {
				t.Fatal(err)
			}
			inject(td, step)
			if _, err := td.startVM(ctx, "keeper", false, false, api.NopReporter{}); err == nil || !strings.Contains(err.Error(), errInjected.Error()) {
				t.Fatalf("start failing at %s: err = %v", step, err)
			}
			v, err := td.store.GetVM(ctx, "keeper")
			if err != nil || v.State != api.StateStopped || !strings.Contains(v.LastError, errInjected.Error()) || v.Handle != nil {
				t.Fatalf("after the failed start: %+v, %v; want stopped with the reason and no VMM", v, err)
			}
			if !td.disks.HasWorkDisk(vm.Files.WorkDisk) || !td.disks.HasOverlay(vm.Files.Overlay) {
				t.Fatal("a failed start lost the VM's disks")
			}
			if td.disks.IsActive(vm.Files.Overlay) || td.net.Taps() != 0 {
				t.Errorf("after the failed start: overlay active %v, %d taps", td.disks.IsActive(vm.Files.Overlay), td.net.Taps())
			}
			if rules, _ := td.fw.List(ctx); len(rules) != 0 {
				t.Errorf("NAT rules after the failed start: %+v", rules)
			}
			inject(td, "")
			if out, err := td.startVM(ctx, "keeper", false, false, api.NopReporter{}); err != nil || out.State != api.StateRunning {
				t.Fatalf("start after the failure was gone: %+v, %v", out, err)
			}
			if rules, _ := td.fw.List(ctx); len(rules) != 1 {
				t.Errorf("NAT rules after the start: %+v", rules)
			}
		})
	}
}

// TestCloneFailingLeavesTheSourceAndNothingElse: a clone that fails while
// copying or booting leaves no clone behind and the source as it was.
func TestCloneFailingLeavesTheSourceAndNothingElse(t *testing.T) {
	for _, step := range []string{"CopyDisk", "UpdateIdentity", "vmm"} {
		t.Run(step, func(t *testing.T) {
			td := newTestDaemon(t)
			ctx := context.Background()
			src, err := td.create(t, "origin", false)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := td.stopVM(ctx, "origin", api.NopReporter{}); err != nil {
				t.Fatal(err)
			}
			inject(td, step)
			if _, err := td.cloneVM(ctx, "origin", api.CloneRequest{Name: "copy", NAT: true, NoWait: true}, api.NopReporter{}); err == nil || !strings.Contains(err.Error(), errInjected.Error()) {
				t.Fatalf("clone failing at %s: err = %v", step, err)
			}
			if _, err := td.store.GetVM(ctx, "copy"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("clone record left behind: %v", err)
			}
			if _, err := os.Stat(filepath.Join(td.layout.VMsDir, "copy")); !os.IsNotExist(err) {
				t.Errorf("clone dir left behind: %v", err)
			}
			if ips, _ := td.store.UsedAddresses(ctx); len(ips) != 1 || ips[0] != src.IP {
				t.Errorf("addresses after the failed clone: %v; want only the source's %s", ips, src.IP)
			}
			if rules, _ := td.fw.List(ctx); len(rules) != 0 || td.net.Taps() != 0 {
				t.Errorf("after the failed clone: rules %+v, %d taps", rules, td.net.Taps())
			}
			for p := range td.disks.WorkDisks {
				if p != src.Files.WorkDisk {
					t.Errorf("disk %s left behind", p)
				}
			}
			if v, err := td.store.GetVM(ctx, "origin"); err != nil || v.State != api.StateStopped || !td.disks.HasWorkDisk(src.Files.WorkDisk) {
				t.Errorf("source after the failed clone: %+v, %v", v, err)
			}
		})
	}
}

// TestStartFailingAfterTheVMMStartedKillsIt: the same for a start of a
// stopped VM: the VMM is killed, the VM is stopped with its disks.
func TestStartFailingAfterTheVMMStartedKillsIt(t *testing.T) {
	td := newTestDaemon(t)
	vm, err := td.create(t, "mute", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := td.stopVM(context.Background(), "mute", api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	handles := startedVMM(ctx, td, "mute")
	if _, err := td.startVM(ctx, "mute", true, false, api.NopReporter{}); err == nil {
		t.Fatal("start of a guest that never answers SSH succeeded")
	}
	h, ok := <-handles
	if !ok {
		t.Fatal("the VMM never ran: the failure did not come after it started")
	}
	if td.vmm.Alive(h) {
		t.Errorf("VMM pid %d still running after the failed start", h.PID)
	}
	v, err := td.store.GetVM(context.Background(), "mute")
	if err != nil || v.State != api.StateStopped || v.Handle != nil || !td.disks.HasWorkDisk(vm.Files.WorkDisk) {
		t.Errorf("after the failed start: %+v, %v; want stopped, no VMM, disks kept", v, err)
	}
	if rules, _ := td.fw.List(context.Background()); len(rules) != 0 || td.net.Taps() != 0 {
		t.Errorf("after the failed start: rules %+v, %d taps", rules, td.net.Taps())
	}
}

// TestResumeFailingKeepsTheSavedState: a resume whose VMM cannot load the
// state leaves the VM suspended with its saved state (files and record),
// holds no tap or NAT rule, and resumes once the cause is gone.
func TestResumeFailingKeepsTheSavedState(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	if _, err := td.create(t, "napper", true); err != nil {
		t.Fatal(err)
	}
	if _, err := td.suspendVM(ctx, "napper", false, api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	before, _ := td.store.GetVM(ctx, "napper")
	inject(td, "vmm")
	if _, err := td.startVM(ctx, "napper", false, false, api.NopReporter{}); err == nil || !strings.Contains(err.Error(), errInjected.Error()) {
		t.Fatalf("resume with a failing VMM: %v", err)
	}
	v, err := td.store.GetVM(ctx, "napper")
	if err != nil || v.State != api.StateSuspended || v.SavedState == nil || v.SavedState.Dir != before.SavedState.Dir {
		t.Fatalf("after the failed resume: %+v, %v; want suspended with its saved state", v, err)
	}
	if _, err := os.Stat(v.SavedState.Dir); err != nil {
		t.Fatalf("saved state files gone after the failed resume: %v", err)
	}
	if rules, _ := td.fw.List(ctx); len(rules) != 0 || td.net.Taps() != 0 {
		t.Errorf("after the failed resume: rules %+v, %d taps", rules, td.net.Taps())
	}
	inject(td, "")
	if out, err := td.startVM(ctx, "napper", false, false, api.NopReporter{}); err != nil || out.State != api.StateRunning {
		t.Fatalf("resume after the failure was gone: %+v, %v", out, err)
	}
}

// TestRestoreFailingCanBeRetried: a restore whose disk copy fails says so
// and to restore again, keeps the VM and the snapshot, and the next
// restore succeeds.
func TestRestoreFailingCanBeRetried(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	if _, err := td.create(t, "rewind", false); err != nil {
		t.Fatal(err)
	}
	if _, err := td.createSnapshotNoWait(ctx, "rewind", api.SnapshotRequest{Name: "s1"}); err != nil {
		t.Fatal(err)
	}
	inject(td, "CopyDisk")
	_, err := td.restoreSnapshot(ctx, "rewind", "s1", true, api.NopReporter{})
	if err == nil || !strings.Contains(err.Error(), errInjected.Error()) || !strings.Contains(err.Error(), "restore again") {
		t.Fatalf("restore with a failing copy: %v; want the cause and 'restore again'", err)
	}
	if _, err := td.store.GetVM(ctx, "rewind"); err != nil {
		t.Fatalf("VM record gone after the failed restore: %v", err)
	}
	if _, err := td.store.GetSnapshot(ctx, "rewind", "s1"); err != nil {
		t.Fatalf("snapshot gone after the failed restore: %v", err)
	}
	inject(td, "")
	if _, err := td.restoreSnapshot(ctx, "rewind", "s1", true, api.NopReporter{}); err != nil {
		t.Fatalf("restore again: %v", err)
	}
}
