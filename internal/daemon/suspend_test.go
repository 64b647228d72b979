package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/storage"
	"github.com/bangerdev/banger/internal/vmm"
	"github.com/bangerdev/banger/internal/vmm/vmmfake"
)

func (td *testDaemon) fakeVM(t *testing.T, name string) (vmmfake.VM, vmm.Handle) {
	t.Helper()
	v, err := td.store.GetVM(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	h, ok := v.Process()
	if !ok {
		t.Fatalf("%s has no handle (state %s)", name, v.State)
	}
	fv, _ := td.vmm.VM(h)
	return fv, h
}

// statusOf is the HTTP status a domain error maps to, 0 for others.
func statusOf(err error) int {
	if model.KindOf(err) == 0 {
		return 0
	}
	return errorStatus(err)
}

// TestSuspendReleasesEverythingAndResumeRestoresIt: a suspended VM has no
// VMM process, tap, NAT rule or active overlay, keeps its state across a
// daemon restart, refuses resource changes and stop, and resumes from its
// state with the same tap and address.
func TestSuspendReleasesEverythingAndResumeRestoresIt(t *testing.T) {
	td := newTestDaemonWith(t, storage.KindDMSnapshot)
	ctx := context.Background()
	vm, err := td.create(t, "sleepy", true)
	if err != nil {
		t.Fatal(err)
	}
	_, h := td.fakeVM(t, "sleepy")
	out, err := td.suspendVM(ctx, "sleepy", false, api.NopReporter{})
	if err != nil {
		t.Fatal(err)
	}
	if out.State != api.StateSuspended || out.SavedState == nil || out.SavedState.VMMVersion != "fake-1.0" ||
		out.SavedState.MemoryMiB != vm.MemoryMiB || out.Handle != nil {
		t.Fatalf("suspended VM = %+v, saved state %+v", out, out.SavedState)
	}
	if fv, _ := td.vmm.VM(h); fv.Running || !fv.Suspended {
		t.Fatalf("VMM after suspend: running %v suspended %v", fv.Running, fv.Suspended)
	}
	if _, ok := td.net.HasTap(vm.Tap); ok {
		t.Fatal("tap kept while suspended")
	}
	if rules, _ := td.fw.List(ctx); len(rules) != 0 {
		t.Fatalf("nat rules kept while suspended: %+v", rules)
	}
	if td.disks.IsActive(vm.Files.Overlay) {
		t.Fatal("overlay device kept while suspended")
	}
	if _, err := os.Stat(filepath.Join(out.SavedState.Dir, vmmfake.StateFileName)); err != nil {
		t.Fatalf("state file: %v", err)
	}

	mem := 2048
	if _, err := td.setVM(ctx, "sleepy", api.SetVMRequest{MemoryMiB: &mem}); statusOf(err) != 409 || !strings.Contains(err.Error(), "suspended") {
		t.Fatalf("vm set memory on a suspended VM: %v", err)
	}
	if _, err := td.stopVM(ctx, "sleepy", api.NopReporter{}); statusOf(err) != 409 || !strings.Contains(err.Error(), "--cold") {
		t.Fatalf("stop of a suspended VM: %v", err)
	}
	if _, err := td.suspendVM(ctx, "sleepy", false, api.NopReporter{}); statusOf(err) != 409 {
		t.Fatalf("second suspend: %v", err)
	}

	// A daemon restart (adoption) keeps the VM suspended.
	td.adopt(ctx)
	if v, _ := td.store.GetVM(ctx, "sleepy"); v.State != api.StateSuspended {
		t.Fatalf("after adoption: %s", v.State)
	}

	res, err := td.startVM(ctx, "sleepy", false, false, api.NopReporter{})
	if err != nil {
		t.Fatal(err)
	}
	if res.State != api.StateRunning || res.SavedState != nil || res.IP != vm.IP || res.Tap != vm.Tap {
		t.Fatalf("resumed VM = %+v", res)
	}
	fv, _ := td.fakeVM(t, "sleepy")
	if fv.Spec.IncomingState != out.SavedState.Dir {
		t.Fatalf("VMM started with incoming state %q, want %q", fv.Spec.IncomingState, out.SavedState.Dir)
	}
	if bridge, ok := td.net.HasTap(vm.Tap); !ok || bridge != td.cfg.BridgeName {
		t.Fatal("tap not restored on resume")
	}
	if rules, _ := td.fw.List(ctx); len(rules) != 1 {
		t.Fatalf("nat rule not restored: %+v", rules)
	}
	if !td.disks.IsActive(vm.Files.Overlay) {
		t.Fatal("overlay not activated on resume")
	}
	if _, err := os.Stat(out.SavedState.Dir); !os.IsNotExist(err) {
		t.Fatalf("spent state kept after resume: %v", err)
	}
}

// TestUnloadableStateIsReportedAndKept: a state written by another VMM
// version is refused with the reason and the way out, stays on disk, and
// only --cold discards it.
func TestUnloadableStateIsReportedAndKept(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	if _, err := td.create(t, "stale", false); err != nil {
		t.Fatal(err)
	}
	out, err := td.suspendVM(ctx, "stale", false, api.NopReporter{})
	if err != nil {
		t.Fatal(err)
	}
	td.vmm.SetVersion("fake-2.0")
	_, err = td.startVM(ctx, "stale", false, false, api.NopReporter{})
	if statusOf(err) != 409 || !strings.Contains(err.Error(), "fake-1.0") || !strings.Contains(err.Error(), "fake-2.0") ||
		!strings.Contains(err.Error(), "--cold") {
		t.Fatalf("resume with another VMM version: %v", err)
	}
	if v, _ := td.store.GetVM(ctx, "stale"); v.State != api.StateSuspended {
		t.Fatalf("state after refused resume: %s", v.State)
	}
	if _, err := os.Stat(filepath.Join(out.SavedState.Dir, vmmfake.StateFileName)); err != nil {
		t.Fatalf("state file lost after a refused resume: %v", err)
	}

	res, err := td.startVM(ctx, "stale", false, true, api.NopReporter{})
	if err != nil {
		t.Fatal(err)
	}
	fv, _ := td.fakeVM(t, "stale")
	if res.State != api.StateRunning || fv.Spec.IncomingState != "" {
		t.Fatalf("cold start: state %s, incoming %q", res.State, fv.Spec.IncomingState)
	}
	if _, err := os.Stat(out.SavedState.Dir); !os.IsNotExist(err) {
		t.Fatalf("state kept after --cold: %v", err)
	}
}

// TestFailedLoadKeepsTheVMSuspended: a VMM that cannot load the state
// leaves the VM suspended with the error recorded, nothing attached.
func TestFailedLoadKeepsTheVMSuspended(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	vm, err := td.create(t, "corrupt", false)
	if err != nil {
		t.Fatal(err)
	}
	out, err := td.suspendVM(ctx, "corrupt", false, api.NopReporter{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out.SavedState.Dir, vmmfake.StateFileName), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = td.startVM(ctx, "corrupt", false, false, api.NopReporter{})
	if err == nil || !strings.Contains(err.Error(), "corrupt state file") || !strings.Contains(err.Error(), "--cold") {
		t.Fatalf("resume of a corrupt state: %v", err)
	}
	v, _ := td.store.GetVM(ctx, "corrupt")
	if v.State != api.StateSuspended || v.LastError == "" {
		t.Fatalf("after failed resume: state %s, last error %q", v.State, v.LastError)
	}
	if _, ok := td.net.HasTap(vm.Tap); ok {
		t.Fatal("tap left after a failed resume")
	}
}

// TestFailedSuspendKeepsTheVMRunning: the VM runs on, watched by its monitor.
func TestFailedSuspendKeepsTheVMRunning(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	if _, err := td.create(t, "wakeful", false); err != nil {
		t.Fatal(err)
	}
	td.vmm.FailSuspend(errInjected)
	if _, err := td.suspendVM(ctx, "wakeful", false, api.NopReporter{}); err == nil || !strings.Contains(err.Error(), "keeps running") {
		t.Fatalf("failed suspend: %v", err)
	}
	v, _ := td.store.GetVM(ctx, "wakeful")
	if v.State != api.StateRunning || v.SavedState != nil {
		t.Fatalf("after failed suspend: %s %+v", v.State, v.SavedState)
	}
	if _, err := os.Stat(stateDir(v)); !os.IsNotExist(err) {
		t.Fatalf("partial state left: %v", err)
	}
	_, h := td.fakeVM(t, "wakeful")
	td.vmm.Crash(h)
	waitState(t, td, "wakeful", api.StateStopped) // the monitor still watches it
}

// TestAdoptKeepsAStateSavedJustBeforeACrash: the daemon died after the
// VMM saved the state but before recording it; adoption finds the state
// and marks the VM suspended rather than stopped.
func TestAdoptKeepsAStateSavedJustBeforeACrash(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	if _, err := td.create(t, "lucky", false); err != nil {
		t.Fatal(err)
	}
	td.monitors.stopAll()
	v, _ := td.store.GetVM(ctx, "lucky")
	_, h := td.fakeVM(t, "lucky")
	if _, err := td.saveState(ctx, v, td.vmm, h, stateDir(v)); err != nil {
		t.Fatal(err)
	}
	td.monitors.stopAll()
	td.adopt(ctx)
	v, _ = td.store.GetVM(ctx, "lucky")
	if v.State != api.StateSuspended || v.SavedState == nil {
		t.Fatalf("after adoption: state %s, saved %+v", v.State, v.SavedState)
	}
}

// TestResumeRecordedResumesOnlySuspendAll: VMs suspended by --all (the
// record) are resumed at start; a VM suspended by name stays suspended.
func TestResumeRecordedResumesOnlySuspendAll(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	for _, n := range []string{"alpha", "beta"} {
		if _, err := td.create(t, n, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := td.suspendVM(ctx, "alpha", true, api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	if _, err := td.suspendVM(ctx, "beta", false, api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	td.adopt(ctx) // resume_on_start is off: nothing resumes
	vms, _ := td.store.ListVMs(ctx)
	for _, v := range vms {
		if v.State != api.StateSuspended {
			t.Fatalf("%s resumed without resume_on_start", v.Name)
		}
	}
	td.resumeRecorded(ctx, vms, false)
	if v, _ := td.store.GetVM(ctx, "alpha"); v.State != api.StateRunning || v.ResumeOnStart {
		t.Fatalf("alpha: state %s, record %v", v.State, v.ResumeOnStart)
	}
	if v, _ := td.store.GetVM(ctx, "beta"); v.State != api.StateSuspended {
		t.Fatalf("beta: %s", v.State)
	}
}

// TestDeleteRemovesTheSavedState: deleting a suspended VM needs no --force
// and leaves no state file.
func TestDeleteRemovesTheSavedState(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	if _, err := td.create(t, "gone", false); err != nil {
		t.Fatal(err)
	}
	out, err := td.suspendVM(ctx, "gone", false, api.NopReporter{})
	if err != nil {
		t.Fatal(err)
	}
	if err := td.deleteVM(ctx, "gone", false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(out.SavedState.Dir); !os.IsNotExist(err) {
		t.Fatalf("state survived delete: %v", err)
	}
}
