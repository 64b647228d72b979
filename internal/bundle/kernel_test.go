package bundle

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestKernelFormat(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct{ body, want string }{
		"vmlinux":  {elfKernel(), FormatELF},
		"bzImage":  {bzKernel(), FormatBzImage},
		"garbage":  {strings.Repeat("x", 0x400), FormatUnknown},
		"short":    {"\x7fEL", FormatUnknown},
		"empty":    {"", FormatUnknown},
		"hdrs-off": {strings.Repeat("\x00", 0x200) + "HdrS", FormatUnknown},
	}
	for name, c := range cases {
		p := filepath.Join(dir, name)
		writeFile(t, p, c.body)
		got, err := KernelFormat(p)
		if err != nil || got != c.want {
			t.Errorf("KernelFormat(%s) = %q, %v; want %q", name, got, err, c.want)
		}
	}
	if _, err := KernelFormat(filepath.Join(dir, "absent")); err == nil {
		t.Error("KernelFormat of a missing file: want an error")
	}
}

func TestCheckFirecrackerKernel(t *testing.T) {
	dir := t.TempDir()
	elf, bz := filepath.Join(dir, "vmlinux"), filepath.Join(dir, "bzImage")
	writeFile(t, elf, elfKernel())
	writeFile(t, bz, bzKernel())
	if err := CheckFirecrackerKernel(elf); err != nil {
		t.Errorf("elf kernel: %v", err)
	}
	err := CheckFirecrackerKernel(bz)
	if err == nil || !strings.HasPrefix(err.Error(), "firecracker needs an uncompressed ELF vmlinux; ") || !strings.Contains(err.Error(), "is a bzImage") {
		t.Errorf("bzImage kernel: got %v", err)
	}
}
