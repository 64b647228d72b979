package daemon

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/config"
	"github.com/bangerdev/banger/internal/vmm/qemu"
)

// The ready line is noticed within a few poll intervals of being written,
// also when the log appears only after watching starts and the line is
// written in pieces; similar lines do not count.
func TestWatchConsoleSeesReadyLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "console.log")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seen := make(chan time.Time, 1)
	go func() {
		at, err := watchConsole(ctx, path, readyLine)
		if err != nil {
			t.Error(err)
		}
		seen <- at
	}()
	time.Sleep(30 * time.Millisecond)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("[    1.0] booting\nnot banger-ready\nbanger-ready-ish\r\nbanger-")
	select {
	case <-seen:
		t.Fatal("ready before the line was complete")
	case <-time.After(50 * time.Millisecond):
	}
	f.WriteString("ready\r\n")
	wrote := time.Now()
	at := <-seen
	if lag := at.Sub(wrote); lag > 50*time.Millisecond {
		t.Errorf("ready line noticed after %s, want within 50ms", lag)
	}
}

func TestWatchConsoleEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := watchConsole(ctx, filepath.Join(t.TempDir(), "none.log"), readyLine); err == nil {
		t.Fatal("no error when the console never says ready")
	}
}

func TestBootTimingsAddUp(t *testing.T) {
	t0 := time.Now()
	c := &bootClock{start: t0, vmm: t0.Add(40 * time.Millisecond), ready: t0.Add(9040 * time.Millisecond), signal: signalConsole}
	got := c.timings(t0.Add(9065 * time.Millisecond))
	if got.HostMS != 40 || got.GuestMS != 9000 || got.ReadyMS != 25 || got.TotalMS != 9065 || got.Signal != "console" {
		t.Fatalf("timings = %+v", got)
	}
	// A start that does not wait has only host time.
	c = &bootClock{start: t0, vmm: t0.Add(40 * time.Millisecond)}
	if got := c.timings(t0.Add(60 * time.Millisecond)); got.GuestMS != 0 || got.ReadyMS != 0 || got.TotalMS != got.HostMS {
		t.Fatalf("no-wait timings = %+v", got)
	}
}

// Every start records its timings, shown by vm show (from the store).
func TestCreateRecordsBootTimings(t *testing.T) {
	td := newTestDaemon(t)
	vm, err := td.create(t, "calm-otter", false)
	if err != nil {
		t.Fatal(err)
	}
	if vm.BootTimings == nil || vm.BootTimings.TotalMS != vm.BootTimings.HostMS || vm.BootTimings.GuestMS != 0 {
		t.Fatalf("create answer timings = %+v", vm.BootTimings)
	}
	for _, step := range []string{"preflight", "reserve", "work_disk", "overlay", "tap", "nat"} {
		if _, ok := vm.BootTimings.HostSteps[step]; !ok {
			t.Errorf("host step %s not timed: %v", step, vm.BootTimings.HostSteps)
		}
	}
	v, err := td.loadVM(context.Background(), "calm-otter")
	if err != nil {
		t.Fatal(err)
	}
	if got := vmToAPI(v).BootTimings; got == nil || !reflect.DeepEqual(got, vm.BootTimings) {
		t.Fatalf("stored timings = %+v, answered %+v", got, vm.BootTimings)
	}
}

// TestReleaseBootSendsOneDatagram: the guest's banger-hold.service waits
// for exactly this datagram on its UDP port.
func TestReleaseBootSendsOneDatagram(t *testing.T) {
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := releaseBoot(l.LocalAddr().String()); err != nil {
		t.Fatal(err)
	}
	_ = l.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, _, err := l.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "verified\n" {
		t.Fatalf("guest got %q, %v; want one \"verified\\n\" datagram", buf[:n], err)
	}
}

// tcg_cache_mib reaches the qemu driver (and so `-accel tcg,tb-size=`).
func TestTCGCacheConfigReachesQEMU(t *testing.T) {
	c := config.Defaults("config.toml")
	c.TCGCacheMiB = 32
	q, ok := realDrivers(c, "")["qemu"].(*qemu.Driver)
	if !ok || q.TBSizeMiB != 32 {
		t.Fatalf("qemu driver = %+v, want TBSizeMiB 32", q)
	}
	if config.DefaultTCGCacheMiB != qemu.DefaultTBSizeMiB {
		t.Errorf("config default %d MiB differs from the qemu driver's %d MiB", config.DefaultTCGCacheMiB, qemu.DefaultTBSizeMiB)
	}
}

// consoleHasLine reads what the log holds once, without waiting.
func TestConsoleHasLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "console.log")
	if consoleHasLine(path, readyLine) {
		t.Error("a missing log holds the line")
	}
	if err := os.WriteFile(path, []byte("boot\r\nbanger-ready-not\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if consoleHasLine(path, readyLine) {
		t.Error("a log without the exact line holds it")
	}
	if time.Since(start) > time.Second {
		t.Error("consoleHasLine waited")
	}
	if err := os.WriteFile(path, []byte("boot\r\nbanger-ready\r\nlogin: "), 0o600); err != nil {
		t.Fatal(err)
	}
	if !consoleHasLine(path, readyLine) {
		t.Error("the line was not found")
	}
}

// A start that does not wait for SSH tells the guest not to hold its boot
// for a release datagram that will not come; one that waits does not.
func TestNoWaitStartDoesNotHoldTheGuest(t *testing.T) {
	td := newTestDaemon(t)
	vm, err := td.create(t, "quick-otter", false)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := td.store.GetVM(context.Background(), vm.Name)
	h, _ := v.Process()
	got, ok := td.vmm.VM(h)
	if !ok || !strings.Contains(got.Spec.Cmdline, noHoldArg) {
		t.Fatalf("--no-wait start: kernel command line %q lacks %s", got.Spec.Cmdline, noHoldArg)
	}
	if strings.Contains(td.spec(v).Cmdline, noHoldArg) {
		t.Errorf("the base spec already holds %s", noHoldArg)
	}
}
