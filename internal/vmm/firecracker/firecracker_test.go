package firecracker

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/detach"
	"github.com/bangerdev/banger/internal/testenv"
	"github.com/bangerdev/banger/internal/vmm"
	"github.com/bangerdev/banger/internal/vmm/firecracker/fakefc"
)

// fakeEnv makes this test binary behave as firecracker (see TestMain).
const fakeEnv = "BANGER_TEST_FAKE_FIRECRACKER"

func TestMain(m *testing.M) {
	if os.Getenv(fakeEnv) == "1" {
		os.Exit(fakefc.Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeDriver returns a driver whose binary is this test binary acting as
// the fake firecracker.
func fakeDriver(t *testing.T) *Driver {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeEnv, "1")
	d := New(exe)
	d.skipKVMCheck = true
	return d
}

func fakeSpec(t *testing.T) vmm.Spec {
	t.Helper()
	dir, err := os.MkdirTemp("", "bgtfc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	kernel := filepath.Join(dir, "vmlinux")
	os.WriteFile(kernel, fakefc.TestKernel(), 0o600)
	root := filepath.Join(dir, "root.ext4")
	work := filepath.Join(dir, "work.ext4")
	os.WriteFile(root, nil, 0o600)
	os.WriteFile(work, nil, 0o600)
	return vmm.Spec{
		Name: "bgt-fc", Dir: filepath.Join(dir, "vm"), Kernel: kernel,
		Cmdline: "banger.name=bgt-fc", VCPUs: 2, MemoryMiB: 256,
		Drives: []vmm.Drive{
			{ID: "rootfs", Path: root, Format: "raw", Root: true},
			{ID: "work", Path: work, Format: "raw"},
		},
		Net:        testNet(t),
		ConsoleLog: filepath.Join(dir, "console.log"),
		VsockCID:   7,
	}
}

// testNet is a network interface on a real tap, which firecracker (and
// the fake) opens; where no tap can be created (not root, -short) the
// spec has none.
func testNet(t *testing.T) *vmm.NetIface {
	t.Helper()
	if testing.Short() || os.Geteuid() != 0 {
		t.Log("no network interface: a tap needs root (and no -short)")
		return nil
	}
	return &vmm.NetIface{Tap: testenv.Tap(t, os.Geteuid(), os.Getegid()), MAC: "06:00:ac:1e:00:02"}
}

func startFake(t *testing.T, d *Driver, spec vmm.Spec) vmm.Handle {
	t.Helper()
	h, err := d.Start(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if d.Alive(h) {
			_ = d.Kill(h, syscall.SIGKILL)
		}
	})
	return h
}

func waitDead(d *Driver, h vmm.Handle, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for d.Alive(h) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

func TestFakeStartShutdown(t *testing.T) {
	d := fakeDriver(t)
	t.Setenv(fakefc.KeyboardReadyEnv, "1s")
	spec := fakeSpec(t)
	h := startFake(t, d, spec)
	if h.Driver != "firecracker" || h.Accel != "kvm" || h.ControlSocket != filepath.Join(spec.Dir, APISocketName) {
		t.Errorf("handle %+v", h)
	}
	if !d.Alive(h) {
		t.Fatal("not alive after Start")
	}
	info, err := Info(t.Context(), h)
	if err != nil || info.State != "Running" {
		t.Fatalf("Info = %+v, %v", info, err)
	}
	console, _ := os.ReadFile(spec.ConsoleLog)
	for _, want := range []string{"login:", "Command line: console=ttyS0 reboot=k panic=1 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd banger.name=bgt-fc ", "[rootfs work]"} {
		if !strings.Contains(string(console), want) {
			t.Errorf("console lacks %q:\n%s", want, console)
		}
	}
	if n := strings.Count(string(console), "pci=off"); n != 1 {
		t.Errorf("pci=off %d times on the command line; firecracker appends it once itself", n)
	}
	// Pre-boot calls are refused now, with firecracker's fault message.
	err = newAPIClient(h.ControlSocket).put(t.Context(), "/machine-config", MachineConfiguration{VCPUCount: 1, MemSizeMiB: 128})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 || !strings.Contains(ae.FaultMessage, "after starting the microVM") {
		t.Errorf("post-boot machine-config: %v", err)
	}
	// A press before the guest's keyboard driver is up is lost, as with
	// firecracker; the caller repeats it.
	if err := d.Shutdown(t.Context(), h); err != nil {
		t.Fatal(err)
	}
	if waitDead(d, h, 1500*time.Millisecond) {
		t.Fatal("an early Ctrl-Alt-Del stopped the guest; firecracker's guest never reads it")
	}
	if err := d.Shutdown(t.Context(), h); err != nil {
		t.Fatal(err)
	}
	if !waitDead(d, h, 5*time.Second) {
		t.Fatal("fake firecracker still running 5 s after SendCtrlAltDel")
	}
	if err := d.Shutdown(t.Context(), h); !errors.Is(err, vmm.ErrNotRunning) {
		t.Errorf("shutdown after exit: %v", err)
	}
}

// TestGuestPowerOffStopsTheVM: a guest `poweroff` halts a firecracker
// guest on x86 without ending the process; Alive reaps it. A new boot on
// the same console log is not mistaken for the halted one.
func TestGuestPowerOffStopsTheVM(t *testing.T) {
	d := fakeDriver(t)
	t.Setenv(fakefc.PowerOffEnv, "200ms")
	spec := fakeSpec(t)
	h := startFake(t, d, spec)
	if !waitDead(d, h, 5*time.Second) {
		t.Fatalf("halted guest still reported alive:\n%s", detach.TailFile(spec.ConsoleLog, 500))
	}
	if detach.ProcessAlive(h.PID, h.StartTime) {
		t.Error("Alive reported a halted guest dead but left its firecracker process running")
	}
	t.Setenv(fakefc.PowerOffEnv, "")
	h2 := startFake(t, d, spec)
	if h2.ConsoleOffset == 0 {
		t.Errorf("second boot's console offset is 0; the first boot's halt line would count")
	}
	time.Sleep(300 * time.Millisecond)
	if !d.Alive(h2) {
		t.Error("a fresh boot was taken for halted: its console log ends with the previous boot's halt line")
	}
	if got := vmm.GuestStopCommand(d); got != "systemctl reboot || reboot" {
		t.Errorf("guest stop command %q; a guest poweroff does not end firecracker", got)
	}
}

// TestLogFile: firecracker logs to --log-path from its first line (not to
// the console) and overwrites the file from offset 0, so each boot starts
// a fresh log and keeps the previous one.
func TestLogFile(t *testing.T) {
	d := fakeDriver(t)
	spec := fakeSpec(t)
	os.MkdirAll(spec.Dir, 0o700)
	logPath := filepath.Join(spec.Dir, LogFileName)
	stale := strings.Repeat("stale line from an older boot\n", 20)
	os.WriteFile(logPath, []byte(stale), 0o600)
	startFake(t, d, spec)
	log, _ := os.ReadFile(logPath)
	if !strings.HasPrefix(string(log), "[anonymous-instance:main] Running Firecracker") || strings.Contains(string(log), "stale") {
		t.Errorf("log after boot:\n%s", log)
	}
	if prev, _ := os.ReadFile(logPath + ".prev"); string(prev) != stale {
		t.Errorf("previous log not kept: %q", prev)
	}
	console, _ := os.ReadFile(spec.ConsoleLog)
	if strings.Contains(string(console), "Running Firecracker") {
		t.Errorf("firecracker's log went to the guest console:\n%s", console)
	}
	if m, _ := filepath.Glob(filepath.Join(spec.Dir, "*metrics*")); len(m) > 0 {
		t.Errorf("metrics files %v written; banger does not read metrics", m)
	}
}

func TestFakeSurvivesCancelledContext(t *testing.T) {
	d := fakeDriver(t)
	ctx, cancel := context.WithCancel(t.Context())
	h, err := d.Start(ctx, fakeSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Kill(h, syscall.SIGKILL) })
	cancel()
	time.Sleep(300 * time.Millisecond)
	if !d.Alive(h) {
		t.Fatal("firecracker died with the start context")
	}
}

func TestFakeKill(t *testing.T) {
	d := fakeDriver(t)
	h := startFake(t, d, fakeSpec(t))
	wrong := h
	wrong.StartTime++
	if err := d.Kill(wrong, syscall.SIGKILL); !errors.Is(err, vmm.ErrNotRunning) {
		t.Errorf("kill with a stale start time: %v", err)
	}
	if !d.Alive(h) {
		t.Fatal("process killed through a stale handle")
	}
	if err := d.Kill(h, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !waitDead(d, h, 5*time.Second) {
		t.Fatal("still alive 5 s after SIGTERM")
	}
	if err := d.Kill(h, syscall.SIGTERM); !errors.Is(err, vmm.ErrNotRunning) {
		t.Errorf("kill after exit: %v", err)
	}
}

func TestFakeStartErrors(t *testing.T) {
	d := fakeDriver(t)

	// The API refuses a body: the fault message reaches the caller and the
	// process is not left behind.
	spec := fakeSpec(t)
	os.WriteFile(spec.Kernel, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 62, 0}, 0o600)
	_, err := d.Start(t.Context(), spec)
	if err == nil || !strings.Contains(err.Error(), "PUT /actions: 400: ") || !strings.Contains(err.Error(), "Cannot load kernel") {
		t.Errorf("a kernel the loader refuses: %v", err)
	}
	if pids := processesMentioning(spec.Dir); len(pids) > 0 {
		t.Errorf("failed start left processes %v behind", pids)
	}

	// Crash before the API is up: stderr is in the error.
	t.Setenv(fakefc.ModeEnv, "crash")
	_, err = d.Start(t.Context(), fakeSpec(t))
	if err == nil || !strings.Contains(err.Error(), "simulated crash") {
		t.Errorf("crash: %v", err)
	}
	t.Setenv(fakefc.ModeEnv, "")

	cases := []struct {
		mut  func(*vmm.Spec)
		want string
	}{
		{func(s *vmm.Spec) { s.Drives[0].Format = "qcow2" }, "only reads raw"},
		{func(s *vmm.Spec) { s.Drives[0].Root, s.Drives[1].Root = false, true }, "root drive but not the first"},
		{func(s *vmm.Spec) { s.VCPUs = 64 }, "vcpu"},
		{func(s *vmm.Spec) { os.WriteFile(s.Kernel, []byte("MZ......"), 0o600) }, "uncompressed ELF vmlinux"},
		{func(s *vmm.Spec) { s.Drives[1].ID = "work-disk" }, "only letters, digits and '_'"},
		{func(s *vmm.Spec) { s.Cmdline = strings.Repeat("x", 1900) }, "shorten the kernel arguments"},
		{func(s *vmm.Spec) { s.Dir = filepath.Join(s.Dir, strings.Repeat("d", 90)) }, "BANGER_STATE_DIR"},
	}
	for _, c := range cases {
		spec := fakeSpec(t)
		c.mut(&spec)
		if _, err := d.Start(t.Context(), spec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want error with %q, got %v", c.want, err)
		}
	}
	d2 := New(filepath.Join(t.TempDir(), "no-firecracker"))
	if _, err := d2.Start(t.Context(), fakeSpec(t)); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("missing binary: %v", err)
	}
}

func TestRequiresKVM(t *testing.T) {
	ok, why := vmm.KVMUsable()
	if ok {
		t.Skip("KVM is usable here; nothing to refuse")
	}
	exe, _ := os.Executable()
	_, err := New(exe).Start(t.Context(), fakeSpec(t))
	if err == nil || !strings.Contains(err.Error(), why) {
		t.Errorf("start without KVM: %v", err)
	}
}

// processesMentioning lists live, non-zombie pids whose command line
// contains s.
func processesMentioning(s string) []string {
	var out []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmd, err := os.ReadFile(d + "/cmdline")
		if err != nil || !strings.Contains(string(cmd), s) {
			continue
		}
		if st, _ := os.ReadFile(d + "/stat"); strings.Contains(string(st), ") Z ") {
			continue
		}
		out = append(out, filepath.Base(d))
	}
	return out
}

// TestFakeAnswersVersionAndSignalsLikeFirecracker: `firecracker --version`
// prints "Firecracker vX.Y.Z" (Version reads it for the suspend/resume
// checks), and SIGTERM ends the process by the signal: firecracker
// installs no handler for it.
func TestFakeAnswersVersionAndSignalsLikeFirecracker(t *testing.T) {
	d := fakeDriver(t)
	exe := d.Binary
	out, err := exec.Command(exe, "--version").Output()
	if err != nil || string(out) != "Firecracker v"+fakefc.Version+"\n\n" {
		t.Fatalf("--version: %q, %v", out, err)
	}
	if v, err := d.Version(t.Context()); err != nil || v != fakefc.Version {
		t.Fatalf("Version() = %q, %v; want %q", v, err, fakefc.Version)
	}
	cmd := exec.Command(exe, "--api-sock=/tmp/x.sock")
	if err := cmd.Run(); cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 153 {
		t.Errorf("--flag=value: %v; want exit 153 (ArgParsing)", err)
	}
	sock := filepath.Join(t.TempDir(), "fc.sock")
	cmd = exec.Command(exe, "--api-sock", sock)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("after SIGTERM: %v; want ended by the signal, as firecracker is", cmd.ProcessState)
	}
}
