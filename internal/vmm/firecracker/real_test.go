package firecracker

import (
	"encoding/json"
	"os"
	"os/exec"
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

// target is a firecracker the driver's shared tests run against: fakefc
// everywhere, the real binary where one and KVM exist.
type target struct {
	d *Driver
	// spec returns a fresh VM spec in its own directory.
	spec func(t *testing.T) vmm.Spec
	// boot bounds the wait for the guest's login prompt.
	boot time.Duration
}

func fakeTarget(t *testing.T) target {
	return target{d: fakeDriver(t), spec: fakeSpec, boot: 5 * time.Second}
}

// realTarget is the firecracker in PATH with the runtime bundle's vmlinux
// and a private copy of its rootfs; it skips t with one line when there is
// no binary, no usable KVM or no bundle.
func realTarget(t *testing.T) target {
	t.Helper()
	testenv.SkipShort(t, "boots a VM with firecracker")
	bin, err := exec.LookPath("firecracker")
	if err != nil {
		t.Skip("firecracker binary not found")
	}
	if ok, why := vmm.KVMUsable(); !ok {
		t.Skip(why)
	}
	rt := os.Getenv("BANGER_TEST_RUNTIME")
	if rt == "" {
		rt, _ = filepath.Abs("../../../runtime")
	}
	b, err := os.ReadFile(filepath.Join(rt, "bundle.json"))
	if err != nil {
		t.Skipf("no runtime bundle at %s", rt)
	}
	var meta struct{ Kernel, Vmlinux, Rootfs string }
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	kernel := meta.Vmlinux
	if kernel == "" {
		kernel = meta.Kernel
	}
	kernel, rootfs := filepath.Join(rt, kernel), filepath.Join(rt, meta.Rootfs)
	if err := CheckKernel(kernel); err != nil {
		t.Skip(err.Error())
	}
	spec := func(t *testing.T) vmm.Spec {
		dir, err := os.MkdirTemp("", "bgtfcreal")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		// A private copy so the bundle image is never written.
		root := filepath.Join(dir, "root.ext4")
		if err := execx.Check(t.Context(), "cp", "--sparse=always", "--reflink=auto", rootfs, root); err != nil {
			t.Fatal(err)
		}
		return vmm.Spec{
			Name: "bgt-fcreal", Dir: filepath.Join(dir, "vm"), Kernel: kernel, VCPUs: 1, MemoryMiB: 512,
			Drives:     []vmm.Drive{{ID: "rootfs", Path: root, Format: "raw", Root: true}},
			Net:        testNet(t),
			ConsoleLog: filepath.Join(dir, "console.log"),
			VsockCID:   7,
		}
	}
	return target{d: New(bin), spec: spec, boot: 60 * time.Second}
}

// TestRealFirecracker runs the driver's shared lifecycle and
// suspend/resume tests against a real firecracker, where there is one.
func TestRealFirecracker(t *testing.T) {
	tg := realTarget(t)
	t.Run("lifecycle", func(t *testing.T) { checkLifecycle(t, tg) })
	t.Run("suspend-resume", func(t *testing.T) { checkSuspendResume(t, tg) })
}

// TestLifecycleAgainstFake runs the shared lifecycle test against fakefc.
func TestLifecycleAgainstFake(t *testing.T) { checkLifecycle(t, fakeTarget(t)) }

func (tg target) start(t *testing.T, spec vmm.Spec) vmm.Handle {
	t.Helper()
	h, err := tg.d.Start(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if tg.d.Alive(h) {
			_ = tg.d.Kill(h, syscall.SIGKILL)
		}
	})
	return h
}

// waitLogin waits for the guest's login prompt on the console.
func (tg target) waitLogin(t *testing.T, spec vmm.Spec) {
	t.Helper()
	deadline := time.Now().Add(tg.boot)
	for {
		c, _ := os.ReadFile(spec.ConsoleLog)
		if strings.Contains(string(c), "login:") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no login prompt in %s:\n%s", tg.boot, detach.TailFile(spec.ConsoleLog, 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkLifecycle: a booted VM runs, reports its state and version over
// the API, and ends when Ctrl-Alt-Del is pressed (repeated, as the daemon
// does, since an early press is lost); a killed one is gone.
func checkLifecycle(t *testing.T, tg target) {
	spec := tg.spec(t)
	h := tg.start(t, spec)
	info, err := Info(t.Context(), h)
	ver, verr := tg.d.Version(t.Context())
	if err != nil || info.State != "Running" || verr != nil || info.VMMVersion != ver {
		t.Fatalf("Info = %+v, %v; --version %q, %v", info, err, ver, verr)
	}
	tg.waitLogin(t, spec)
	deadline := time.Now().Add(30 * time.Second)
	for tg.d.Alive(h) {
		if time.Now().After(deadline) {
			t.Fatal("firecracker still running 30 s into SendCtrlAltDel presses")
		}
		_ = tg.d.Shutdown(t.Context(), h)
		waitDead(tg.d, h, 2*time.Second)
	}
	h2 := tg.start(t, tg.spec(t))
	if err := tg.d.Kill(h2, syscall.SIGKILL); err != nil || !waitDead(tg.d, h2, 5*time.Second) {
		t.Fatalf("SIGKILL: %v; alive %v", err, tg.d.Alive(h2))
	}
}

// checkSuspendResume: Suspend pauses, writes the snapshot and memory file
// and ends the process; a start with IncomingState loads it and runs on,
// on a new tap when the old one is gone; the resumed VM suspends again into
// the same directory (the new files replace, by rename, the memory file
// the running process maps) and resumes from there; a corrupted snapshot
// is refused.
func checkSuspendResume(t *testing.T, tg target) {
	d := tg.d
	spec := tg.spec(t)
	h := tg.start(t, spec)
	tg.waitLogin(t, spec)
	state := filepath.Join(t.TempDir(), "state")
	if err := d.Suspend(t.Context(), h, state); err != nil {
		t.Fatalf("suspend: %v", err)
	}
	if !waitDead(d, h, 5*time.Second) {
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
		deleteTap(spec.Net.Tap)
		resumed.Net = testNet(t)
	}
	h2 := tg.start(t, resumed)
	if info, err := Info(t.Context(), h2); err != nil || info.State != "Running" {
		t.Fatalf("resumed VM: %+v, %v", info, err)
	}
	if err := d.Suspend(t.Context(), h2, state); err != nil {
		t.Fatalf("a resumed VM must be suspendable again into its state directory: %v", err)
	}
	if !waitDead(d, h2, 5*time.Second) {
		t.Fatal("firecracker still runs after the second suspend")
	}
	h3 := tg.start(t, resumed)
	if !d.Alive(h3) {
		t.Fatal("second resume is not running")
	}
	_ = d.Kill(h3, syscall.SIGKILL)
	waitDead(d, h3, 5*time.Second)

	// A snapshot file that is not one: the load is refused with the reason.
	if err := os.WriteFile(filepath.Join(state, SnapshotFileName), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Start(t.Context(), resumed); err == nil {
		t.Fatal("a corrupted snapshot was loaded")
	}
}
