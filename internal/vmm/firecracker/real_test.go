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

// TestRealFirecracker boots the runtime bundle's vmlinux with a real
// firecracker when one is in PATH and KVM is usable.
func TestRealFirecracker(t *testing.T) {
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
	spec := vmm.Spec{
		Name: "bgt-fcreal", Dir: dir, Kernel: kernel, VCPUs: 1, MemoryMiB: 512,
		Drives:     []vmm.Drive{{ID: "rootfs", Path: root, Format: "raw", Root: true}},
		ConsoleLog: filepath.Join(dir, "console.log"),
	}
	d := New(bin)
	h, err := d.Start(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if d.Alive(h) {
			_ = d.Kill(h, syscall.SIGKILL)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, _ := os.ReadFile(spec.ConsoleLog)
		if strings.Contains(string(c), "login:") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no login prompt in 60 s:\n%s", detach.TailFile(spec.ConsoleLog, 3000))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := d.Shutdown(t.Context(), h); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(30 * time.Second)
	for d.Alive(h) {
		if time.Now().After(deadline) {
			t.Fatal("firecracker still running 30 s after SendCtrlAltDel")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
