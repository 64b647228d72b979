package firecracker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckKernel(t *testing.T) {
	dir := t.TempDir()
	elf := filepath.Join(dir, "vmlinux")
	os.WriteFile(elf, append([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1}, make([]byte, 100)...), 0o600)
	if err := CheckKernel(elf); err != nil {
		t.Errorf("ELF refused: %v", err)
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
