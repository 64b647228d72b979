package firecracker

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

var elfMagic = []byte{0x7f, 'E', 'L', 'F'}

// CheckKernel verifies that path is an uncompressed ELF kernel (vmlinux),
// the only format x86_64 firecracker boots, and explains what to do when it
// is a bzImage.
func CheckKernel(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("check kernel: %w", err)
	}
	defer f.Close()
	var hdr [0x206]byte
	n, err := io.ReadFull(f, hdr[:])
	if err != nil && err != io.ErrUnexpectedEOF {
		return fmt.Errorf("check kernel %s: %w", path, err)
	}
	if n >= 4 && bytes.Equal(hdr[:4], elfMagic) {
		return nil
	}
	// The x86 boot protocol puts "HdrS" at offset 0x202 of a bzImage.
	if n >= 0x206 && string(hdr[0x202:0x206]) == "HdrS" {
		return fmt.Errorf("firecracker needs an uncompressed ELF vmlinux kernel; %s is a bzImage: use the bundle's vmlinux, extract one with the kernel tree's scripts/extract-vmlinux, or set vmm = \"qemu\"", path)
	}
	return fmt.Errorf("firecracker needs an uncompressed ELF vmlinux kernel; %s is neither ELF nor a bzImage: point the kernel setting at a vmlinux", path)
}
