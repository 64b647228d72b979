package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/nat"
	"github.com/bangerdev/banger/internal/store"
	"github.com/bangerdev/banger/internal/vmm"
	"github.com/bangerdev/banger/internal/vmm/vmmfake"
)

// fakeGuest replaces the SSH stop fallback for one test: it records the
// commands and, when obey, powers the guest off as a real one would.
type fakeGuest struct {
	mu   sync.Mutex
	cmds []string
}

func (g *fakeGuest) install(t *testing.T, td *testDaemon, obey bool) {
	old := guestCommand
	guestCommand = func(_ *guests, ctx context.Context, v *model.VM, cmd string) ([]byte, error) {
		g.mu.Lock()
		g.cmds = append(g.cmds, cmd)
		g.mu.Unlock()
		if !obey {
			return nil, errors.New("fake guest: ssh: connection refused")
		}
		h, _ := v.Process()
		td.vmm.Crash(h) // the guest powered off: the VMM exits
		return nil, nil
	}
	t.Cleanup(func() { guestCommand = old })
}

func (g *fakeGuest) commands() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.cmds...)
}

// stopAndInspect creates a running VM, stops it and returns what the fake
// VMM saw, the stopped record and how long the stop took.
func stopAndInspect(t *testing.T, td *testDaemon) (vmmfake.VM, *model.VM, time.Duration) {
	t.Helper()
	ctx := context.Background()
	if _, err := td.create(t, "calm-otter", false); err != nil {
		t.Fatal(err)
	}
	v, _ := td.store.GetVM(ctx, "calm-otter")
	h, _ := v.Process()
	start := time.Now()
	vm, err := td.stopVM(ctx, "calm-otter", api.NopReporter{})
	took := time.Since(start)
	if err != nil || vm.State != api.StateStopped {
		t.Fatalf("stop: %+v, %v", vm, err)
	}
	fv, _ := td.vmm.VM(h)
	after, _ := td.store.GetVM(ctx, "calm-otter")
	return fv, after, took
}

func TestStopHonouredPowerButtonNeedsNoSSHAndNoKill(t *testing.T) {
	td := newTestDaemon(t)
	var g fakeGuest
	g.install(t, td, true)
	fv, v, took := stopAndInspect(t, td)
	if fv.Shutdowns == 0 || len(fv.Signals) != 0 {
		t.Fatalf("shutdowns %d, signals %v; want the power button and no signal", fv.Shutdowns, fv.Signals)
	}
	if cmds := g.commands(); len(cmds) != 0 {
		t.Fatalf("guest asked over SSH although it honoured the power button: %v", cmds)
	}
	if took > time.Second || v.LastError != "" || v.Handle != nil {
		t.Fatalf("stop took %s, last error %q, handle %+v", took, v.LastError, v.Handle)
	}
}

func TestStopFallsBackToSSHWhenThePowerButtonIsIgnored(t *testing.T) {
	td := newTestDaemon(t)
	td.cfg.StopTimeout = 8 * time.Second
	td.vmm.IgnoreShutdown(true)
	var g fakeGuest
	g.install(t, td, true)
	fv, _, took := stopAndInspect(t, td)
	if cmds := g.commands(); len(cmds) != 1 || cmds[0] != vmm.DefaultGuestStopCommand {
		t.Fatalf("guest commands = %q; want one %q", cmds, vmm.DefaultGuestStopCommand)
	}
	if len(fv.Signals) != 0 {
		t.Fatalf("VMM signalled %v although the guest powered off over SSH", fv.Signals)
	}
	if took < sshGrace || took >= td.cfg.StopTimeout {
		t.Fatalf("stop took %s; want after the %s SSH grace and before the %s timeout", took, sshGrace, td.cfg.StopTimeout)
	}
}

func TestStopKillsAfterStopTimeoutWhenTheGuestIgnoresEverything(t *testing.T) {
	td := newTestDaemon(t)
	td.cfg.StopTimeout = 6 * time.Second
	td.vmm.IgnoreShutdown(true)
	var g fakeGuest
	g.install(t, td, false)
	fv, v, took := stopAndInspect(t, td)
	if fv.Shutdowns < 2 {
		t.Errorf("power button pressed %d times in %s; want it re-pressed", fv.Shutdowns, took)
	}
	if cmds := g.commands(); len(cmds) != 1 {
		t.Errorf("guest commands = %q; want one SSH attempt", cmds)
	}
	if !slices.Equal(fv.Signals, []syscall.Signal{syscall.SIGKILL}) {
		t.Fatalf("signals = %v; want one SIGKILL", fv.Signals)
	}
	if took < td.cfg.StopTimeout || took > td.cfg.StopTimeout+4*time.Second {
		t.Fatalf("killed after %s; want at stop_timeout %s (not before, not long after)", took, td.cfg.StopTimeout)
	}
	if v.State != api.StateStopped || v.Handle != nil {
		t.Fatalf("after kill: %+v", v)
	}
}

func ptr[T any](v T) *T { return &v }

func TestSetChangesResourcesOnlyWhileStopped(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	vm, err := td.create(t, "calm-otter", false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = td.setVM(ctx, "calm-otter", api.SetVMRequest{VCPUs: ptr(4)})
	if err == nil || !strings.Contains(err.Error(), "banger vm stop calm-otter") {
		t.Fatalf("set --vcpu on a running VM: %v; want a refusal naming vm stop", err)
	}
	if v, _ := td.store.GetVM(ctx, "calm-otter"); v.VCPUs != vm.VCPUs {
		t.Fatalf("refused set changed vcpus to %d", v.VCPUs)
	}
	if _, err := td.stopVM(ctx, "calm-otter", api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []api.SetVMRequest{{VCPUs: ptr(0)}, {MemoryMiB: ptr(0)}, {VCPUs: ptr(MaxVCPUs + 1)}, {DiskSize: ptr(int64(1) << 29)}} {
		if _, err := td.setVM(ctx, "calm-otter", bad); err == nil {
			t.Errorf("set %+v accepted", bad)
		}
	}
	got, err := td.setVM(ctx, "calm-otter", api.SetVMRequest{VCPUs: ptr(3), MemoryMiB: ptr(1536), DiskSize: ptr(int64(2) << 30)})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := td.store.GetVM(ctx, "calm-otter")
	if v.VCPUs != 3 || v.MemoryMiB != 1536 || v.DiskSize != 2<<30 || got.VCPUs != 3 {
		t.Fatalf("after set: stored %d vcpus %d MiB %d bytes; returned %+v", v.VCPUs, v.MemoryMiB, v.DiskSize, got)
	}
	if td.disks.WorkDisks[v.WorkDisk] != 2<<30 {
		t.Fatalf("work disk not grown: %d", td.disks.WorkDisks[v.WorkDisk])
	}
	if _, err := td.setVM(ctx, "calm-otter", api.SetVMRequest{DiskSize: ptr(int64(1) << 30)}); err == nil || !strings.Contains(err.Error(), "shrinking") {
		t.Fatalf("shrink: %v", err)
	}
	if _, err := td.startVM(ctx, "calm-otter", false, false, api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	v, _ = td.store.GetVM(ctx, "calm-otter")
	h, _ := v.Process()
	fv, _ := td.vmm.VM(h)
	if fv.Spec.VCPUs != 3 || fv.Spec.MemoryMiB != 1536 {
		t.Fatalf("VMM started with %d vcpus %d MiB; want the set values", fv.Spec.VCPUs, fv.Spec.MemoryMiB)
	}
}

func TestSetNATWhileRunningAndStopped(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	vm, err := td.create(t, "calm-otter", false)
	if err != nil {
		t.Fatal(err)
	}
	rules := func() []nat.Rule { r, _ := td.fw.List(ctx); return r }
	if _, err := td.setVM(ctx, "calm-otter", api.SetVMRequest{NAT: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if r := rules(); len(r) != 1 || r[0].Name != "calm-otter" || r[0].IP != netip.MustParseAddr(vm.IP) || r[0].Tap != vm.Tap {
		t.Fatalf("after --nat on a running VM: rules %+v; want one for %s on %s", r, vm.IP, vm.Tap)
	}
	if _, err := td.setVM(ctx, "calm-otter", api.SetVMRequest{NAT: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if r := rules(); len(r) != 0 {
		t.Fatalf("after --no-nat: rules %+v", r)
	}
	if _, err := td.stopVM(ctx, "calm-otter", api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	if _, err := td.setVM(ctx, "calm-otter", api.SetVMRequest{NAT: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if r := rules(); len(r) != 0 {
		t.Fatalf("--nat on a stopped VM added a rule: %+v", r)
	}
	if _, err := td.startVM(ctx, "calm-otter", false, false, api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	if r := rules(); len(r) != 1 || r[0].Name != "calm-otter" {
		t.Fatalf("start after --nat: rules %+v", r)
	}
}

// TestAdoptionResyncsNAT plays a daemon restart while VMs run: the NAT
// rules found on the host (one missing, one for a VM that no longer wants
// NAT, one for a VM that no longer exists) are brought back to exactly the
// running NAT VMs.
func TestAdoptionResyncsNAT(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	a, err := td.create(t, "calm-otter", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := td.create(t, "busy-heron", true); err != nil {
		t.Fatal(err)
	}
	if _, err := td.create(t, "quiet-wren", true); err != nil {
		t.Fatal(err)
	}
	if _, err := td.stopVM(ctx, "quiet-wren", api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	// busy-heron no longer wants NAT, but its rule stayed (a crash between
	// the record and the firewall); calm-otter's rule was lost; a ghost's
	// rule was never removed.
	h, _ := td.store.GetVM(ctx, "busy-heron")
	h.NAT = false
	if err := td.store.UpdateVM(ctx, h); err != nil {
		t.Fatal(err)
	}
	td.monitors.stopAll()
	_ = td.fw.RemoveVM(ctx, "calm-otter")
	_ = td.fw.AddVM(ctx, nat.Rule{Name: "ghost", IP: netip.MustParseAddr("172.31.0.99"), Tap: "bgtghost"})
	_ = td.net.DeleteTap(ctx, a.Tap)

	td.adopt(ctx)

	r, _ := td.fw.List(ctx)
	if len(r) != 1 || r[0].Name != "calm-otter" || r[0].IP != netip.MustParseAddr(a.IP) || r[0].Tap != a.Tap {
		t.Fatalf("rules after adoption = %+v; want exactly calm-otter's (%s on %s)", r, a.IP, a.Tap)
	}
	if _, ok := td.net.HasTap(a.Tap); !ok {
		t.Fatal("adoption did not restore the tap of a running VM")
	}
	for _, name := range []string{"calm-otter", "busy-heron"} {
		if v, _ := td.store.GetVM(ctx, name); v.State != api.StateRunning {
			t.Fatalf("%s is %s after adoption; its VMM still runs", name, v.State)
		}
	}
	if !td.hostFax.Forwarding() {
		t.Fatal("adoption with a NAT VM left IP forwarding off")
	}
}

// TestAdoptionRemovesHalfCreatedVM plays a daemon that died during create:
// the next daemon removes the record, address, directory and disks of the
// half-created VM and leaves the other VMs alone.
func TestAdoptionRemovesHalfCreatedVM(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	if _, err := td.create(t, "calm-otter", false); err != nil {
		t.Fatal(err)
	}
	img, _ := td.store.GetImage(ctx, DefaultImageName)
	v, err := td.reserveVM(ctx, api.CreateVMRequest{Name: "half-lynx", VCPUs: 1, MemoryMiB: 512, DiskSize: 1 << 30}, img)
	if err != nil {
		t.Fatal(err)
	}
	if err := td.buildWorkDisk(ctx, v); err != nil {
		t.Fatal(err)
	}
	td.monitors.stopAll()

	td.adopt(ctx)

	if _, err := td.store.GetVM(ctx, "half-lynx"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("half-created record after adoption: %v", err)
	}
	if _, err := os.Stat(v.Dir); !os.IsNotExist(err) {
		t.Fatalf("half-created dir after adoption: %v", err)
	}
	if td.disks.HasWorkDisk(v.WorkDisk) {
		t.Fatal("half-created work disk after adoption")
	}
	if ips, _ := td.store.UsedAddresses(ctx); slices.Contains(ips, v.IP) || len(ips) != 1 {
		t.Fatalf("addresses after adoption = %v; want only calm-otter's", ips)
	}
	if o, _ := td.store.GetVM(ctx, "calm-otter"); o.State != api.StateRunning {
		t.Fatalf("calm-otter is %s after adoption", o.State)
	}
}

// TestAdoptionReapsAnInterruptedStart plays a daemon killed between
// spawning a VM's VMM and recording it: the VM is recorded stopped, its tap
// is on the bridge and a process (here a stand-in) writes its console log.
// The next daemon kills that process and removes the tap; the VM stays
// stopped with its disks, and other processes are left alone.
func TestAdoptionReapsAnInterruptedStart(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	if _, err := td.create(t, "cut-otter", false); err != nil {
		t.Fatal(err)
	}
	if _, err := td.stopVM(ctx, "cut-otter", api.NopReporter{}); err != nil {
		t.Fatal(err)
	}
	td.monitors.stopAll()
	v, _ := td.store.GetVM(ctx, "cut-otter")
	if err := td.net.CreateTap(ctx, v.Tap, td.cfg.BridgeName); err != nil {
		t.Fatal(err)
	}
	vmm := holdOpen(t, v.ConsoleLog())
	bystander := holdOpen(t, filepath.Join(t.TempDir(), "other.log"))

	td.adopt(ctx)

	if err := waitProcessGone(vmm, 5*time.Second); err != nil {
		t.Fatalf("leftover VMM: %v", err)
	}
	if _, ok := td.net.HasTap(v.Tap); ok {
		t.Error("the interrupted start's tap is still on the bridge")
	}
	if syscall.Kill(bystander.Process.Pid, 0) != nil {
		t.Error("a process not holding a VM's console log was killed")
	}
	v, _ = td.store.GetVM(ctx, "cut-otter")
	if v.State != api.StateStopped || !td.disks.HasWorkDisk(v.WorkDisk) {
		t.Errorf("after adoption: state %s, work disk kept %v", v.State, td.disks.HasWorkDisk(v.WorkDisk))
	}
}

// holdOpen starts a process whose stdout is path (appended), like a VMM
// writing a console log, and kills it when the test ends.
func holdOpen(t *testing.T, path string) *exec.Cmd {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command("sleep", "60")
	cmd.Stdout = f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd
}

// waitProcessGone waits until cmd's process has exited.
func waitProcessGone(cmd *exec.Cmd, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if syscall.Kill(cmd.Process.Pid, 0) != nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("pid %d still runs after %s", cmd.Process.Pid, limit)
}

// Right after a boot that waited for SSH the guest's logind may not listen
// for the power button yet, so a stop asks over SSH at once; later, after a
// resume or a start that did not wait, the power button gets its grace.
func TestStopGraceAfterAFreshBoot(t *testing.T) {
	now := time.Now()
	timed := func(signal string, startedAgo time.Duration) *model.VM {
		return &model.VM{StartedAt: now.Add(-startedAgo),
			BootTimings: &model.BootTimings{GuestMS: 2500, ReadyMS: 300, VMMStartMS: 50, Signal: signal}}
	}
	for _, tc := range []struct {
		what string
		v    *model.VM
		want time.Duration
	}{
		{"ready 1 s ago", timed(signalConsole, 3800*time.Millisecond), 0},
		{"ready by polling 1 s ago", timed(signalPoll, 3800*time.Millisecond), 0},
		{"ready a minute ago", timed(signalConsole, time.Minute), sshGrace},
		{"resumed 1 s ago", timed(signalResume, 3800*time.Millisecond), sshGrace},
		{"started without waiting", &model.VM{StartedAt: now}, sshGrace},
	} {
		if got := stopGrace(tc.v, now); got != tc.want {
			t.Errorf("%s: grace %s, want %s", tc.what, got, tc.want)
		}
	}
}
