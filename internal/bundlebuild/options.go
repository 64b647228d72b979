// Package bundlebuild assembles a banger runtime bundle locally from Debian
// packages: a debootstrap root filesystem with the banger guest files
// installed, a guest kernel (a microVM kernel compiled from Debian's
// linux-source, or Debian's cloud kernel with an initrd), bundle.json and the
// package list. Slow intermediate results (the bootstrapped tree and the
// compiled kernel) are cached under Options.CacheDir, so rebuilding a bundle
// whose inputs did not change takes well under two minutes.
package bundlebuild

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Kernel choices for Options.Kernel.
const (
	// KernelMicroVM compiles a no-module, no-initrd kernel from Debian's
	// linux-source (vmlinux for firecracker, bzImage for qemu).
	KernelMicroVM = "microvm"
	// KernelDistro uses Debian's linux-image-cloud-amd64 with an initrd and
	// modules.
	KernelDistro = "distro"
	// KernelBoth builds the microVM kernel as the bundle's default and adds
	// the distro kernel files (vmlinuz, initrd.img, modules/) beside it.
	KernelBoth = "both"
)

// Defaults applied by Options.withDefaults.
const (
	DefaultSuite          = "bookworm"
	DefaultMirror         = "http://deb.debian.org/debian"
	DefaultPackagesFile   = "packages.apt"
	DefaultKernelFragment = "kernel/microvm.fragment"
	// DefaultKernelSource is Debian's linux-source-6.1 tarball.
	DefaultKernelSource = "/usr/src/linux-source-6.1.tar.xz"
)

// Options configures Build.
type Options struct {
	// OutDir is the runtime bundle directory to fill (e.g. ./runtime). Files
	// the build produces replace existing ones; others are left alone.
	OutDir string
	// CacheDir holds the bootstrap tarballs, compiled kernels and temporary
	// build trees (e.g. ~/.cache/banger). Required.
	CacheDir string
	// Kernel is KernelMicroVM (default), KernelDistro or KernelBoth.
	Kernel string
	// Suite is the Debian suite to bootstrap (default bookworm).
	Suite string
	// Mirror is the Debian mirror (default http://deb.debian.org/debian).
	Mirror string
	// PackagesFile is the apt package list baked into the image (default
	// packages.apt in the working directory).
	PackagesFile string
	// GuestDir, when set, replaces the embedded guest files with the files
	// of the same names in that directory (banger-guest,
	// banger-guest.service, sshd-banger.conf, fstab).
	GuestDir string
	// Untuned skips the boot-time unit masks (see bootMasked), for the
	// stock baseline image of make bench; with a GuestDir holding only the
	// required guest files it is a plain debootstrap plus banger's identity.
	Untuned bool
	// KernelFragment is the kconfig fragment merged onto tinyconfig (default
	// kernel/microvm.fragment in the working directory).
	KernelFragment string
	// KernelSource is the linux-source tarball (default
	// /usr/src/linux-source-6.1.tar.xz).
	KernelSource string
	// FirecrackerBin is copied into the bundle; when empty, firecracker is
	// looked up in PATH, and the bundle records none when it is not found.
	FirecrackerBin string
	// Jobs is the make -j level for the kernel (default: number of CPUs).
	Jobs int
	// Progress, when set, is called as each step starts: i is 1-based, n
	// the number of steps. Calls are serialised but may come from another
	// goroutine.
	Progress func(step string, i, n int)
	// Detail, when set, receives progress within a long step (the kernel
	// compile's count of compiled files).
	Detail func(msg string)
	// Log receives debug and info records; nil discards them.
	Log *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.OutDir == "" {
		return o, errors.New("bundle build: no output directory given: pass the runtime dir, e.g. ./runtime")
	}
	if o.CacheDir == "" {
		return o, errors.New("bundle build: no cache directory given: pass one, e.g. ~/.cache/banger")
	}
	if o.Kernel == "" {
		o.Kernel = KernelMicroVM
	}
	switch o.Kernel {
	case KernelMicroVM, KernelDistro, KernelBoth:
	default:
		return o, fmt.Errorf("bundle build: unknown kernel %q: use %q, %q or %q", o.Kernel, KernelMicroVM, KernelDistro, KernelBoth)
	}
	if o.Suite == "" {
		o.Suite = DefaultSuite
	}
	if o.Mirror == "" {
		o.Mirror = DefaultMirror
	}
	if o.PackagesFile == "" {
		o.PackagesFile = DefaultPackagesFile
	}
	if o.KernelFragment == "" {
		o.KernelFragment = DefaultKernelFragment
	}
	if o.KernelSource == "" {
		o.KernelSource = DefaultKernelSource
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var err error
	for _, p := range []*string{&o.OutDir, &o.CacheDir, &o.PackagesFile, &o.KernelFragment} {
		if *p, err = filepath.Abs(*p); err != nil {
			return o, fmt.Errorf("bundle build: %w", err)
		}
	}
	if strings.ContainsAny(o.Suite, "/ ") {
		return o, fmt.Errorf("bundle build: bad suite %q: give a Debian suite name such as bookworm", o.Suite)
	}
	return o, nil
}

func (o Options) wantMicroVM() bool { return o.Kernel != KernelDistro }
func (o Options) wantDistro() bool  { return o.Kernel != KernelMicroVM }

// firecracker returns the firecracker binary to bundle, or "".
func (o Options) firecracker() (string, error) {
	if o.FirecrackerBin != "" {
		if _, err := os.Stat(o.FirecrackerBin); err != nil {
			return "", fmt.Errorf("bundle build: firecracker binary: %w: fix the path or leave it empty", err)
		}
		return o.FirecrackerBin, nil
	}
	if p, err := lookPath("firecracker"); err == nil {
		return p, nil
	}
	return "", nil
}
