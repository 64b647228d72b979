package bundle

import (
	"fmt"
	"os"
	"path/filepath"
)

// Overrides are config values that replace bundle paths when non-empty
// (the original config keys default_kernel, default_initrd, ...). Each must
// be an absolute path.
type Overrides struct {
	// DefaultKernel replaces the bundle kernel (config default_kernel).
	DefaultKernel string
	// DefaultInitrd replaces the bundle initrd (config default_initrd).
	DefaultInitrd string
	// DefaultModulesDir replaces the modules tree (config default_modules_dir).
	DefaultModulesDir string
	// DefaultRootfs replaces the default image (config default_rootfs).
	DefaultRootfs string
	// DefaultBaseRootfs replaces the base image (config default_base_rootfs).
	DefaultBaseRootfs string
	// DefaultPackagesFile replaces the apt list (config default_packages_file).
	DefaultPackagesFile string
	// FirecrackerBin replaces the bundled firecracker (config firecracker_bin).
	FirecrackerBin string
}

// Resolved holds absolute paths for everything a bundle provides after
// overrides. An empty path means "none".
type Resolved struct {
	// Dir is the absolute bundle directory.
	Dir string
	// Layout is LayoutJSON or LayoutLegacy.
	Layout string
	// Kernel is the default guest kernel.
	Kernel string
	// KernelFormat is "elf", "bzimage" or "unknown" (detected when the
	// metadata does not say, "" when the kernel file is missing).
	KernelFormat string
	// Vmlinux is an uncompressed ELF kernel, when known.
	Vmlinux string
	// BzImage is a compressed kernel, when known.
	BzImage string
	// Initrd is the initrd, or empty.
	Initrd string
	// ModulesDir is the kernel modules tree, or empty.
	ModulesDir string
	// Rootfs is the default image.
	Rootfs string
	// BaseRootfs is the base image for image builds.
	BaseRootfs string
	// BaseRootfsFallback is true when BaseRootfs fell back to Rootfs.
	BaseRootfsFallback bool
	// PackagesFile is the apt package list.
	PackagesFile string
	// Firecracker is the firecracker binary, or empty.
	Firecracker string
	// Helpers maps helper names to absolute paths.
	Helpers map[string]string
	// Metadata is the bundle metadata the paths came from.
	Metadata *Metadata
}

// Resolve loads the bundle in dir (bundle.json or legacy layout), applies
// ov and returns absolute paths. It does not require the files to exist;
// see [Resolved.Missing].
func Resolve(dir string, ov Overrides) (*Resolved, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolve runtime dir %q: %w", dir, err)
	}
	for _, o := range []struct{ key, val string }{
		{"default_kernel", ov.DefaultKernel}, {"default_initrd", ov.DefaultInitrd},
		{"default_modules_dir", ov.DefaultModulesDir}, {"default_rootfs", ov.DefaultRootfs},
		{"default_base_rootfs", ov.DefaultBaseRootfs}, {"default_packages_file", ov.DefaultPackagesFile},
		{"firecracker_bin", ov.FirecrackerBin},
	} {
		if o.val != "" && !filepath.IsAbs(o.val) {
			return nil, fmt.Errorf("config %s %q is not an absolute path: use a full path", o.key, o.val)
		}
	}
	m, err := Load(abs)
	if err != nil {
		return nil, err
	}
	join := func(p string) string {
		if p == "" {
			return ""
		}
		return filepath.Join(abs, p)
	}
	pick := func(override, rel string) string {
		if override != "" {
			return filepath.Clean(override)
		}
		return join(rel)
	}
	r := &Resolved{
		Dir:          abs,
		Layout:       m.Layout,
		Kernel:       join(m.Kernel),
		KernelFormat: m.KernelFormat,
		Vmlinux:      join(m.Vmlinux),
		BzImage:      join(m.BzImage),
		Initrd:       pick(ov.DefaultInitrd, m.Initrd),
		ModulesDir:   pick(ov.DefaultModulesDir, m.ModulesDir),
		Rootfs:       pick(ov.DefaultRootfs, m.Rootfs),
		BaseRootfs:   pick(ov.DefaultBaseRootfs, m.BaseRootfs),
		PackagesFile: pick(ov.DefaultPackagesFile, m.PackagesFile),
		Firecracker:  pick(ov.FirecrackerBin, m.Firecracker),
		Helpers:      map[string]string{},
		Metadata:     m,
	}
	for name, p := range m.Helpers {
		r.Helpers[name] = join(p)
	}
	if ov.DefaultKernel != "" {
		// A configured kernel replaces the bundle's kernel variants too.
		r.Kernel = filepath.Clean(ov.DefaultKernel)
		r.KernelFormat, r.Vmlinux, r.BzImage = "", "", ""
	}
	if r.KernelFormat == "" && r.Kernel != "" {
		if f, err := KernelFormat(r.Kernel); err == nil {
			r.KernelFormat = f
		}
	}
	switch {
	case r.KernelFormat == FormatELF && r.Vmlinux == "":
		r.Vmlinux = r.Kernel
	case r.KernelFormat == FormatBzImage && r.BzImage == "":
		r.BzImage = r.Kernel
	}
	if r.BaseRootfs == "" {
		r.BaseRootfs = r.Rootfs
		r.BaseRootfsFallback = true
	}
	return r, nil
}

// Missing lists, as "field: path" (or "field: not set"), every required
// item that is unset and every named item that does not exist on disk.
// Required items are the kernel and the default rootfs. An empty list means
// the bundle is complete.
func (r *Resolved) Missing() []string {
	var out []string
	for _, it := range r.items() {
		if it.path == "" {
			if it.required {
				out = append(out, it.role+": not set")
			}
			continue
		}
		if _, err := os.Stat(it.path); err != nil {
			out = append(out, it.role+": "+it.path)
		}
	}
	return out
}

type item struct {
	role     string
	path     string
	required bool
	dir      bool
}

// items lists every role of the resolved bundle in a stable order,
// skipping variants that repeat the kernel.
func (r *Resolved) items() []item {
	its := []item{{role: "kernel", path: r.Kernel, required: true}}
	if r.Vmlinux != r.Kernel {
		its = append(its, item{role: "vmlinux", path: r.Vmlinux})
	}
	if r.BzImage != r.Kernel {
		its = append(its, item{role: "bzimage", path: r.BzImage})
	}
	its = append(its,
		item{role: "initrd", path: r.Initrd},
		item{role: "modules_dir", path: r.ModulesDir, dir: true},
		item{role: "rootfs", path: r.Rootfs, required: true},
	)
	if !r.BaseRootfsFallback {
		its = append(its, item{role: "base_rootfs", path: r.BaseRootfs})
	}
	its = append(its,
		item{role: "packages_file", path: r.PackagesFile},
		item{role: "firecracker", path: r.Firecracker},
	)
	for _, name := range sortedKeys(r.Helpers) {
		its = append(its, item{role: "helper " + name, path: r.Helpers[name]})
	}
	return its
}

// FirecrackerKernel returns the ELF kernel firecracker must boot, or an
// error saying why the bundle has none.
func (r *Resolved) FirecrackerKernel() (string, error) {
	if r.Vmlinux != "" {
		return r.Vmlinux, nil
	}
	return "", CheckFirecrackerKernel(r.Kernel)
}

// QEMUKernel returns the kernel the qemu driver boots: the bzImage when the
// bundle has one, else the default kernel.
func (r *Resolved) QEMUKernel() string {
	if r.BzImage != "" {
		return r.BzImage
	}
	return r.Kernel
}
