package fakefc

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// kernelStart is firecracker's x86_64 highmem start (get_kernel_start):
// the ELF entry point must not lie below it.
const kernelStart = 0x100000

// faultKernelLoad is firecracker v1.16's answer at InstanceStart when
// linux-loader refuses the kernel; the loader's own reason goes to the
// log, as firecracker's Debug rendering of the error does.
const faultKernelLoad = "Start microvm error: System configuration error: Cannot load kernel due to invalid memory configuration or invalid kernel image: Kernel Loader: failed to load ELF kernel image"

// checkKernel loads path as linux-loader's ELF loader does for x86_64
// firecracker v1.16 (which boots no bzImage): ELF magic, little endian,
// 64-bit program headers after the ELF header, an entry point at or above
// 1 MiB, readable program headers and PT_LOAD segments. Firecracker does
// not look at the machine field and would load another architecture's
// ELF into a guest that then does not boot; the fake refuses it, naming
// the machine. It returns the loader's reason, or "".
func checkKernel(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "Kernel Loader: Unable to read elf header: " + errnoText(err)
	}
	defer f.Close()
	var hdr elf.Header64
	if err := binary.Read(f, binary.LittleEndian, &hdr); err != nil {
		if string(hdr.Ident[:4]) != elf.ELFMAG {
			return "Kernel Loader: Invalid Elf magic number"
		}
		return "Kernel Loader: Unable to read elf header"
	}
	switch {
	case string(hdr.Ident[:4]) != elf.ELFMAG:
		return "Kernel Loader: Invalid Elf magic number"
	case elf.Data(hdr.Ident[elf.EI_DATA]) != elf.ELFDATA2LSB:
		return "Kernel Loader: Trying to load big-endian binary on little-endian machine"
	case elf.Class(hdr.Ident[elf.EI_CLASS]) != elf.ELFCLASS64 || hdr.Phentsize != 56:
		return "Kernel Loader: Invalid program header size"
	case hdr.Phoff < 64:
		return "Kernel Loader: Invalid program header offset"
	case hdr.Entry < kernelStart:
		return "Kernel Loader: Invalid entry address"
	case elf.Machine(hdr.Machine) != elf.EM_X86_64:
		return fmt.Sprintf("fake firecracker: the kernel is an ELF for %v, not x86_64 (firecracker would load it and the guest would not boot)", elf.Machine(hdr.Machine))
	}
	loads := 0
	for i := 0; i < int(hdr.Phnum); i++ {
		var ph elf.Prog64
		if _, err := f.Seek(int64(hdr.Phoff)+int64(i)*56, io.SeekStart); err != nil {
			return "Kernel Loader: Unable to seek to program header"
		}
		if err := binary.Read(f, binary.LittleEndian, &ph); err != nil {
			return "Kernel Loader: Unable to read program header"
		}
		if elf.ProgType(ph.Type) != elf.PT_LOAD || ph.Filesz == 0 {
			continue
		}
		if _, err := f.ReadAt(make([]byte, 1), int64(ph.Off+ph.Filesz-1)); err != nil {
			return "Kernel Loader: Unable to read kernel image"
		}
		loads++
	}
	if loads == 0 {
		return "fake firecracker: the kernel ELF has no loadable segment"
	}
	return ""
}

// TestKernel returns the smallest file the fake accepts as a kernel: a
// 64-bit x86 ELF with one loadable segment at 16 MiB, for tests.
func TestKernel() []byte {
	const entry, phoff, segOff = 0x1000000, 64, 0x1000
	hdr := elf.Header64{Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: 1,
		Entry: entry, Phoff: phoff, Ehsize: 64, Phentsize: 56, Phnum: 1}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS], hdr.Ident[elf.EI_DATA], hdr.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), 1
	ph := elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X), Off: segOff,
		Vaddr: entry, Paddr: entry, Filesz: 16, Memsz: 16, Align: 0x1000}
	out := make([]byte, segOff+16)
	var w bytes.Buffer
	_ = binary.Write(&w, binary.LittleEndian, hdr)
	_ = binary.Write(&w, binary.LittleEndian, ph)
	copy(out, w.Bytes())
	copy(out[segOff:], []byte{0xf4, 0xeb, 0xfd}) // hlt; jmp .-1
	return out
}
