package qemu

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/detach"
	"github.com/bangerdev/banger/internal/execx"
	"github.com/bangerdev/banger/internal/testenv"
	"github.com/bangerdev/banger/internal/vmm"
)

// bootKit is what a real boot needs: a kernel (+initrd) and a root image.
type bootKit struct {
	kernel, initrd, rootfs string
}

// findBootKit looks for a runtime bundle (BANGER_TEST_RUNTIME, else the
// repository's runtime/ directory) or an ad-hoc kernel given with
// BANGER_TEST_KERNEL (+ BANGER_TEST_INITRD, BANGER_TEST_ROOTFS).
func findBootKit(t *testing.T) bootKit {
	t.Helper()
	testenv.SkipShort(t, "boots a VM under QEMU")
	if !execx.Have("qemu-system-x86_64") || !execx.Have("qemu-img") {
		t.Skip("qemu-system-x86_64 or qemu-img not installed (Debian: qemu-system-x86 qemu-utils)")
	}
	if k := os.Getenv("BANGER_TEST_KERNEL"); k != "" {
		return bootKit{kernel: k, initrd: os.Getenv("BANGER_TEST_INITRD"), rootfs: os.Getenv("BANGER_TEST_ROOTFS")}
	}
	dir := os.Getenv("BANGER_TEST_RUNTIME")
	if dir == "" {
		dir, _ = filepath.Abs("../../../runtime")
	}
	b, err := os.ReadFile(filepath.Join(dir, "bundle.json"))
	if err != nil {
		t.Skipf("no runtime bundle at %s (set BANGER_TEST_RUNTIME or build one)", dir)
	}
	var meta struct {
		Kernel  string `json:"kernel"`
		BzImage string `json:"bzimage"`
		Initrd  string `json:"initrd"`
		Rootfs  string `json:"rootfs"`
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatalf("parse %s/bundle.json: %v", dir, err)
	}
	kit := bootKit{kernel: meta.Kernel, initrd: meta.Initrd, rootfs: meta.Rootfs}
	if meta.BzImage != "" {
		kit.kernel = meta.BzImage
	}
	for _, p := range []*string{&kit.kernel, &kit.initrd, &kit.rootfs} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	if kit.kernel == "" || kit.rootfs == "" {
		t.Skipf("bundle at %s names no kernel or rootfs", dir)
	}
	return kit
}

// bootSpec prepares a VM directory with a qcow2 overlay of the root image
// (so the bundle image is never written) and a small raw second drive.
func bootSpec(t *testing.T, kit bootKit) vmm.Spec {
	t.Helper()
	dir, err := os.MkdirTemp("", "bgtqemu")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	overlay := filepath.Join(dir, "root.qcow2")
	if kit.rootfs != "" {
		if err := execx.Check(t.Context(), "qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", kit.rootfs, overlay); err != nil {
			t.Fatal(err)
		}
	} else if err := execx.Check(t.Context(), "qemu-img", "create", "-q", "-f", "qcow2", overlay, "16M"); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work.img")
	if err := os.WriteFile(work, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(work, 8<<20); err != nil {
		t.Fatal(err)
	}
	return vmm.Spec{
		Name:       "bgt-" + filepath.Base(dir)[len("bgtqemu"):],
		Dir:        dir,
		Kernel:     kit.kernel,
		Initrd:     kit.initrd,
		Cmdline:    "banger.name=bgt",
		VCPUs:      1,
		MemoryMiB:  512,
		Drives:     []vmm.Drive{{ID: "rootfs", Path: overlay, Format: "qcow2", Root: true}, {ID: "work", Path: work, Format: "raw"}},
		ConsoleLog: filepath.Join(dir, "console.log"),
	}
}

// startVM starts spec and registers a SIGKILL cleanup.
func startVM(t *testing.T, ctx context.Context, d *Driver, spec vmm.Spec) vmm.Handle {
	t.Helper()
	h, err := d.Start(ctx, spec)
	if err != nil {
		t.Fatalf("Start: %v\nconsole: %s", err, detach.TailFile(spec.ConsoleLog, 2000))
	}
	t.Cleanup(func() {
		if d.Alive(h) {
			_ = d.Kill(h, syscall.SIGKILL)
		}
	})
	return h
}

func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(200 * time.Millisecond)
	}
	return cond()
}

func TestRealBootShutdown(t *testing.T) {
	kit := findBootKit(t)
	spec := bootSpec(t, kit)
	d := New("")
	ctx, cancel := context.WithCancel(t.Context())
	h := startVM(t, ctx, d, spec)
	cancel() // the VM must not depend on the caller's context
	t.Logf("qemu pid %d accel %s", h.PID, h.Accel)
	if h.Driver != "qemu" || h.PID == 0 || h.StartTime == 0 || h.ControlSocket == "" {
		t.Fatalf("handle %+v", h)
	}
	time.Sleep(500 * time.Millisecond)
	if !d.Alive(h) {
		t.Fatal("qemu died when the start context was cancelled")
	}

	booted := time.Now()
	if !waitFor(120*time.Second, func() bool {
		b, _ := os.ReadFile(spec.ConsoleLog)
		return strings.Contains(string(b), "login:")
	}) {
		t.Fatalf("no login prompt within 120 s; console tail:\n%s", detach.TailFile(spec.ConsoleLog, 3000))
	}
	t.Logf("login prompt after %v", time.Since(booted).Round(time.Millisecond))
	// Drives[1] (the 8 MiB work disk) must be the guest's second disk.
	if b, _ := os.ReadFile(spec.ConsoleLog); !strings.Contains(string(b), "[vdb] 16384 512-byte logical blocks") {
		t.Errorf("the 8 MiB second drive is not /dev/vdb; console:\n%s", detach.TailFile(spec.ConsoleLog, 3000))
	}

	st, err := Query(t.Context(), h)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != "running" || len(st.Blocks) != 2 || st.Blocks[0].Drive != "rootfs" || st.Blocks[0].ReadBytes == 0 {
		t.Errorf("query = %+v", st)
	}

	// A press that arrives before the guest's handler (systemd-logind)
	// runs is lost, so press again every 10 s, as the daemon should.
	if err := d.Shutdown(t.Context(), h); err != nil {
		t.Fatal(err)
	}
	pressed := time.Now()
	if !waitFor(60*time.Second, func() bool {
		if time.Since(pressed) > 10*time.Second && d.Alive(h) {
			pressed = time.Now()
			_ = d.Shutdown(t.Context(), h)
		}
		return !d.Alive(h)
	}) {
		t.Fatalf("guest ignored the ACPI power button (system_powerdown) for 60 s; console tail:\n%s", detach.TailFile(spec.ConsoleLog, 2000))
	}
	if err := d.Shutdown(t.Context(), h); !errors.Is(err, vmm.ErrNotRunning) {
		t.Errorf("shutdown after exit: %v", err)
	}
}

func TestRealKill(t *testing.T) {
	kit := findBootKit(t)
	spec := bootSpec(t, kit)
	d := New("")
	h := startVM(t, t.Context(), d, spec)
	if err := d.Kill(h, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !waitFor(10*time.Second, func() bool { return !d.Alive(h) }) {
		t.Fatal("qemu still alive 10 s after SIGTERM")
	}
	if err := d.Kill(h, syscall.SIGTERM); !errors.Is(err, vmm.ErrNotRunning) {
		t.Errorf("kill after exit: %v", err)
	}
}

func TestStartReportsQEMUErrors(t *testing.T) {
	if !execx.Have("qemu-system-x86_64") {
		t.Skip("qemu-system-x86_64 not installed (Debian: qemu-system-x86)")
	}
	dir := t.TempDir()
	spec := vmm.Spec{
		Name: "bgt-err", Dir: dir, Kernel: filepath.Join(dir, "no-such-kernel"),
		VCPUs: 1, MemoryMiB: 128,
		Drives: []vmm.Drive{{ID: "rootfs", Path: filepath.Join(dir, "no-such-disk.img"), Format: "raw", Root: true}},
	}
	_, err := New("").Start(t.Context(), spec)
	if err == nil {
		t.Fatal("Start succeeded without disk and kernel")
	}
	if !strings.Contains(err.Error(), "no-such-disk.img") {
		t.Errorf("error lacks qemu's message: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, PIDFileName)); err == nil {
		t.Error("pidfile left behind by a failed start")
	}
}
