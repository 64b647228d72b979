package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// bzImageMagicOffset is where the x86 boot protocol header magic "HdrS"
// sits in a bzImage.
const bzImageMagicOffset = 0x202

// KernelFormat reports whether the kernel at path is an uncompressed ELF
// image ("elf"), an x86 bzImage ("bzimage") or neither ("unknown"). A file
// too short to tell is "unknown"; only I/O failures are errors.
func KernelFormat(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("detect kernel format: %w", err)
	}
	defer f.Close()
	buf := make([]byte, bzImageMagicOffset+4)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("detect kernel format of %s: %w", path, err)
	}
	buf = buf[:n]
	switch {
	case bytes.HasPrefix(buf, []byte("\x7fELF")):
		return FormatELF, nil
	case len(buf) >= bzImageMagicOffset+4 && string(buf[bzImageMagicOffset:]) == "HdrS":
		return FormatBzImage, nil
	}
	return FormatUnknown, nil
}

// CheckFirecrackerKernel is the firecracker preflight for a kernel: nil
// when path is an ELF vmlinux, else an error naming what is wrong and how
// to fix it.
func CheckFirecrackerKernel(path string) error {
	const fix = "set vmlinux in bundle.json or default_kernel to an ELF vmlinux (the bundle builder produces one; scripts/extract-vmlinux in the kernel source extracts one from a bzImage), or use vmm = \"qemu\""
	if path == "" {
		return fmt.Errorf("firecracker needs an uncompressed ELF vmlinux; the runtime bundle names no kernel: %s", fix)
	}
	format, err := KernelFormat(path)
	if err != nil {
		return fmt.Errorf("firecracker needs an uncompressed ELF vmlinux; %w: %s", err, fix)
	}
	switch format {
	case FormatELF:
		return nil
	case FormatBzImage:
		return fmt.Errorf("firecracker needs an uncompressed ELF vmlinux; %s is a bzImage: %s", path, fix)
	}
	return fmt.Errorf("firecracker needs an uncompressed ELF vmlinux; %s is not an ELF kernel: %s", path, fix)
}
