package daemon

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/storage"
	"github.com/bangerdev/banger/internal/vmm"
)

// TestOverlayActivatedForEveryBootAndReleasedOnEveryStop walks a
// dm-snapshot VM through create, stop, start, crash, adoption and delete:
// its overlay device must be active exactly while the VMM runs, and the
// VMM must always be handed the activated device.
func TestOverlayActivatedForEveryBootAndReleasedOnEveryStop(t *testing.T) {
	td := newTestDaemonWith(t, storage.KindDMSnapshot)
	ctx := context.Background()
	vm, err := td.create(t, "dm-otter", false)
	if err != nil {
		t.Fatal(err)
	}
	ov := vm.Files.Overlay
	active := func(want bool, when string) {
		t.Helper()
		if got := td.disks.IsActive(ov); got != want {
			t.Fatalf("%s: overlay active = %v, want %v", when, got, want)
		}
	}
	lastDrive := func(when string) {
		t.Helper()
		v, _ := td.store.GetVM(ctx, "dm-otter")
		h, _ := v.Process()
		fv, ok := td.vmm.VM(h)
		if !ok || !strings.HasPrefix(fv.Spec.Drives[0].Path, "/dev/mapper/") {
			t.Fatalf("%s: root drive handed to the VMM = %+v; want the activated device", when, fv.Spec.Drives)
		}
	}
	active(true, "after create")
	lastDrive("after create")

	if _, err := td.stopVM(ctx, "dm-otter", api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	active(false, "after stop")

	if _, err := td.startVM(ctx, "dm-otter", false, false, api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	active(true, "after start")
	lastDrive("after start")

	v, _ := td.store.GetVM(ctx, "dm-otter")
	h, _ := v.Process()
	td.vmm.Crash(h)
	waitState(t, td, "dm-otter", api.StateStopped)
	active(false, "after a VMM crash")

	if _, err := td.startVM(ctx, "dm-otter", false, false, api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	td.monitors.stopAll()
	v, _ = td.store.GetVM(ctx, "dm-otter")
	h, _ = v.Process()
	td.vmm.Crash(h)
	td.adopt(ctx)
	active(false, "after adoption found the VMM dead")

	if err := td.deleteVM(ctx, "dm-otter", false); err != nil {
		t.Fatal(err)
	}
	if td.disks.HasOverlay(ov) || td.disks.IsActive(ov) {
		t.Fatal("overlay survived delete")
	}
}

// TestFailedOverlayActivationStartsNothing: a start whose overlay cannot be
// activated leaves no tap, no NAT rule and no VMM, and says which step failed.
func TestFailedOverlayActivationStartsNothing(t *testing.T) {
	td := newTestDaemonWith(t, storage.KindDMSnapshot)
	ctx := context.Background()
	if _, err := td.create(t, "fragile", true); err != nil {
		t.Fatal(err)
	}
	if _, err := td.stopVM(ctx, "fragile", api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	td.disks.Fail = map[string]error{"ActivateOverlay": errInjected}
	_, err := td.startVM(ctx, "fragile", false, false, api.NopReporter{})
	if err == nil || !strings.Contains(err.Error(), "overlay") || !strings.Contains(err.Error(), errInjected.Error()) {
		t.Fatalf("start error = %v; want it to name the overlay step and cause", err)
	}
	if ports, _ := td.net.Ports(ctx, td.cfg.BridgeName); len(ports) != 0 {
		t.Fatalf("taps left after failed start: %v", ports)
	}
	if rules, _ := td.fw.List(ctx); len(rules) != 0 {
		t.Fatalf("nat rules left after failed start: %+v", rules)
	}
	// A failed start leaves the VM stopped, saying why (no error state).
	if v, _ := td.store.GetVM(ctx, "fragile"); v.State != api.StateStopped || v.LastError != err.Error() {
		t.Fatalf("after failed start: state %s, last error %q; want stopped, %q", v.State, v.LastError, err)
	}
}

// TestSpecHandedToTheVMM checks what the driver is asked to boot: the VM's
// tap and MAC, the overlay as root drive and the work disk, the identity
// on the kernel command line, and the requested resources.
func TestSpecHandedToTheVMM(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	vm, err := td.createVM(ctx, api.CreateVMRequest{Name: "spec-otter", VCPUs: 3, MemoryMiB: 768, NoWait: true, DiskSize: 2 << 30}, api.NopReporter{})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := td.store.GetVM(ctx, "spec-otter")
	h, _ := v.Process()
	fv, ok := td.vmm.VM(h)
	if !ok {
		t.Fatal("driver never started the VM")
	}
	s := fv.Spec
	if s.Net == nil || s.Net.Tap != vm.Tap || s.Net.MAC != vm.MAC {
		t.Errorf("net = %+v; want tap %s mac %s", s.Net, vm.Tap, vm.MAC)
	}
	if s.VCPUs != 3 || s.MemoryMiB != 768 {
		t.Errorf("resources = %d vcpu %d MiB; want 3 and 768", s.VCPUs, s.MemoryMiB)
	}
	want := []vmm.Drive{
		{ID: "rootfs", Path: vm.OverlayPath, Format: storage.FormatQcow2, Root: true},
		{ID: "work", Path: vm.WorkDisk, Format: "raw"},
	}
	if len(s.Drives) != 2 || s.Drives[0] != want[0] || s.Drives[1] != want[1] {
		t.Errorf("drives = %+v; want %+v", s.Drives, want)
	}
	for _, part := range []string{"banger.name=spec-otter", "banger.ip=" + vm.IP + "/24"} {
		if !strings.Contains(s.Cmdline, part) {
			t.Errorf("cmdline %q lacks %q", s.Cmdline, part)
		}
	}
	if s.ConsoleLog != vm.ConsoleLog() {
		t.Errorf("console log = %q; want %q", s.ConsoleLog, vm.ConsoleLog())
	}
}

// waitState polls until the VM reaches state or fails after 5 s.
func waitState(t *testing.T, td *testDaemon, name, state string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if v, err := td.store.GetVM(context.Background(), name); err == nil && string(v.State) == state {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	v, _ := td.store.GetVM(context.Background(), name)
	t.Fatalf("%s still %s after 5s; want %s", name, v.State, state)
}

var errInjected = errors.New("injected failure")
