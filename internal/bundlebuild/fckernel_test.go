package bundlebuild

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bangerdev/banger/internal/bundle"
	"github.com/bangerdev/banger/internal/testenv"
	"github.com/bangerdev/banger/internal/vmm/firecracker"
)

// TestBuiltKernelSuitsFirecracker checks the built bundle's microVM kernel
// against both firecracker preflights (the bundle check and the driver's),
// and that the bzImage is refused by them.
func TestBuiltKernelSuitsFirecracker(t *testing.T) {
	testenv.SkipShort(t, "reads the built runtime bundle, which test-short does not build")
	dir := os.Getenv("BANGER_TEST_RUNTIME")
	if dir == "" {
		dir = filepath.Join("..", "..", "runtime")
	}
	vmlinux := filepath.Join(dir, "vmlinux")
	if _, err := os.Stat(vmlinux); err != nil {
		t.Skipf("no built microVM kernel at %s (make runtime-bundle-local)", vmlinux)
	}
	if err := bundle.CheckFirecrackerKernel(vmlinux); err != nil {
		t.Fatalf("bundle check refused the vmlinux: %v", err)
	}
	if err := firecracker.CheckKernel(vmlinux); err != nil {
		t.Fatalf("firecracker driver refused the vmlinux: %v", err)
	}
	bz := filepath.Join(dir, "bzImage")
	if _, err := os.Stat(bz); err == nil {
		if bundle.CheckFirecrackerKernel(bz) == nil || firecracker.CheckKernel(bz) == nil {
			t.Fatal("a bzImage passed the firecracker kernel check")
		}
	}
}
