package firecracker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/vmm/firecracker/fakefc"
)

func TestCheckKernel(t *testing.T) {
	dir := t.TempDir()
	vmlinux := filepath.Join(dir, "vmlinux")
	os.WriteFile(vmlinux, fakefc.TestKernel(), 0o600)
	if err := CheckKernel(vmlinux); err != nil {
		t.Errorf("x86_64 ELF refused: %v", err)
	}
	for name, mut := range map[string]func([]byte){
		"ELFCLASS32":  func(k []byte) { k[4] = 1 },
		"ELFDATA2MSB": func(k []byte) { k[5] = 2 },
		"EM_AARCH64":  func(k []byte) { k[18], k[19] = 183, 0 },
	} {
		k := fakefc.TestKernel()
		mut(k)
		os.WriteFile(vmlinux, k, 0o600)
		if err := CheckKernel(vmlinux); err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "x86") {
			t.Errorf("%s ELF: %v; want a refusal naming it", name, err)
		}
	}
	bz := make([]byte, 0x400)
	copy(bz[0x202:], "HdrS")
	bzPath := filepath.Join(dir, "bzImage")
	os.WriteFile(bzPath, bz, 0o600)
	if err := CheckKernel(bzPath); err == nil || !strings.Contains(err.Error(), "uncompressed ELF vmlinux") || !strings.Contains(err.Error(), "is a bzImage") {
		t.Errorf("bzImage: %v", err)
	}
	junk := filepath.Join(dir, "junk")
	os.WriteFile(junk, []byte("hi"), 0o600)
	if err := CheckKernel(junk); err == nil || !strings.Contains(err.Error(), "neither ELF nor a bzImage") {
		t.Errorf("junk: %v", err)
	}
	if err := CheckKernel(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing kernel accepted")
	}
}

// TestCheckKernelDebian checks a real distribution bzImage when one is on
// this machine.
func TestCheckKernelDebian(t *testing.T) {
	matches, _ := filepath.Glob("/boot/vmlinuz-*")
	if len(matches) == 0 {
		t.Skip("no /boot/vmlinuz-* on this host")
	}
	if err := CheckKernel(matches[0]); err == nil || !strings.Contains(err.Error(), "bzImage") {
		t.Errorf("%s: %v", matches[0], err)
	}
}
