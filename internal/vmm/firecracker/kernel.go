package firecracker

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

var elfMagic = []byte{0x7f, 'E', 'L', 'F'}

// CheckKernel verifies that path is an uncompressed 64-bit x86 ELF kernel
// (vmlinux), the only format x86_64 firecracker v1.16 boots, and explains
// what to do when it is a bzImage or another ELF.
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
		return checkELF(path, hdr[:n])
	}
	// The x86 boot protocol puts "HdrS" at offset 0x202 of a bzImage.
	if n >= 0x206 && string(hdr[0x202:0x206]) == "HdrS" {
		return fmt.Errorf("firecracker needs an uncompressed ELF vmlinux kernel; %s is a bzImage: use the bundle's vmlinux, extract one with the kernel tree's scripts/extract-vmlinux, or set vmm = \"qemu\"", path)
	}
	return fmt.Errorf("firecracker needs an uncompressed ELF vmlinux kernel; %s is neither ELF nor a bzImage: point the kernel setting at a vmlinux", path)
}

// checkELF refuses an ELF x86_64 firecracker cannot boot: 32-bit or big
// endian ones (its loader refuses them with a generic error) and other
// machines' (it would load them and the guest would not boot).
func checkELF(path string, hdr []byte) error {
	if len(hdr) < 20 {
		return fmt.Errorf("firecracker needs a 64-bit x86 ELF vmlinux kernel; %s is a truncated ELF: point the kernel setting at a complete vmlinux", path)
	}
	class, data := elf.Class(hdr[elf.EI_CLASS]), elf.Data(hdr[elf.EI_DATA])
	if class != elf.ELFCLASS64 || data != elf.ELFDATA2LSB {
		return fmt.Errorf("firecracker needs a 64-bit little-endian x86 ELF vmlinux kernel; %s is %v %v: use an x86_64 vmlinux, or set vmm = \"qemu\"", path, class, data)
	}
	if m := elf.Machine(binary.LittleEndian.Uint16(hdr[18:20])); m != elf.EM_X86_64 {
		return fmt.Errorf("firecracker needs an x86_64 ELF vmlinux kernel; %s is built for %v: use an x86_64 vmlinux", path, m)
	}
	return nil
}
