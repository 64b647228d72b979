package fakefc

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestBundleKernelLoads: the runtime bundle's vmlinux, the kernel banger
// gives firecracker, passes the fake's loader checks, so they refuse only
// what firecracker's loader refuses; its bzImage (for qemu) is refused, as
// by firecracker v1.16. Skips without a bundle.
func TestBundleKernelLoads(t *testing.T) {
	rt := os.Getenv("BANGER_TEST_RUNTIME")
	if rt == "" {
		rt, _ = filepath.Abs("../../../../runtime")
	}
	b, err := os.ReadFile(filepath.Join(rt, "bundle.json"))
	if err != nil {
		t.Skipf("no runtime bundle at %s", rt)
	}
	var meta struct{ Vmlinux, Bzimage string }
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Vmlinux == "" {
		t.Skipf("the bundle at %s has no vmlinux", rt)
	}
	if why := checkKernel(filepath.Join(rt, meta.Vmlinux)); why != "" {
		t.Fatalf("the bundle's vmlinux is refused: %s", why)
	}
	if meta.Bzimage != "" {
		if why := checkKernel(filepath.Join(rt, meta.Bzimage)); why != "Kernel Loader: Invalid Elf magic number" {
			t.Errorf("the bundle's bzImage: %q; firecracker v1.16 refuses it as not ELF", why)
		}
	}
}
