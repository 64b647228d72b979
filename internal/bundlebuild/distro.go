package bundlebuild

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bangerdev/banger/internal/execx"
)

// Distro kernel file names in the bundle.
const (
	vmlinuzName = "vmlinuz"
	initrdName  = "initrd.img"
	modulesName = "modules"
)

// distroMeta is Debian's metapackage for the cloud kernel.
const distroMeta = "linux-image-cloud-amd64"

// initrdModules are the only modules the distro initrd carries (with their
// dependencies): enough to find and mount /dev/vda on a microVM.
const initrdModules = "virtio_mmio\nvirtio_pci\nvirtio_blk\nvirtio_net\nvirtio_rng\nvirtio_console\next4\n"

// distroKernelDeb returns the path of the cloud kernel package, reusing
// apt's archive cache or an earlier download, else apt-get download.
func distroKernelDeb(ctx context.Context, o Options) (string, error) {
	if !execx.Have("apt-get") || !execx.Have("apt-cache") {
		return "", errors.New("distro kernel: apt-get not found: the distro kernel needs a Debian host; use the microvm kernel instead")
	}
	out, err := execx.Output(ctx, "apt-cache", "depends", distroMeta)
	if err != nil {
		return "", fmt.Errorf("distro kernel: %w: run apt-get update", err)
	}
	pkg := ""
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if name, ok := strings.CutPrefix(l, "Depends: "); ok && strings.HasPrefix(name, "linux-image-") {
			pkg = strings.TrimSpace(name)
			break
		}
	}
	if pkg == "" {
		return "", fmt.Errorf("distro kernel: %s names no kernel package: run apt-get update", distroMeta)
	}
	debs := filepath.Join(o.CacheDir, "debs")
	for _, dir := range []string{"/var/cache/apt/archives", debs} {
		if m, _ := filepath.Glob(filepath.Join(dir, pkg+"_*_amd64.deb")); len(m) > 0 {
			sort.Strings(m)
			return m[len(m)-1], nil
		}
	}
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return "", fmt.Errorf("distro kernel: %w", err)
	}
	o.Log.Info("downloading distro kernel", "package", pkg)
	if _, err := execx.Run(ctx, execx.Cmd{Dir: debs, Args: []string{"apt-get", "download", pkg}}); err != nil {
		return "", fmt.Errorf("distro kernel: %w: check the Debian mirror is reachable", err)
	}
	m, _ := filepath.Glob(filepath.Join(debs, pkg+"_*_amd64.deb"))
	if len(m) == 0 {
		return "", fmt.Errorf("distro kernel: apt-get download left no %s package in %s", pkg, debs)
	}
	return m[0], nil
}

// installDistroKernel unpacks the cloud kernel into the root filesystem
// tree, builds its initrd inside the tree (chroot, no mounts) and copies
// vmlinuz, initrd.img and modules/<release> into stage.
func installDistroKernel(ctx context.Context, o Options, tree, stage string) (string, error) {
	deb, err := distroKernelDeb(ctx, o)
	if err != nil {
		return "", err
	}
	x, err := os.MkdirTemp(tmpDir(o), "distro-kernel-")
	if err != nil {
		return "", fmt.Errorf("distro kernel: %w", err)
	}
	defer os.RemoveAll(x)
	// Unpack aside: extracting into the tree would replace its /lib symlink.
	if err := execx.Check(ctx, "dpkg-deb", "-x", deb, x); err != nil {
		return "", fmt.Errorf("distro kernel: unpack %s: %w", filepath.Base(deb), err)
	}
	rels, _ := filepath.Glob(filepath.Join(x, "lib/modules/*"))
	if len(rels) != 1 {
		return "", fmt.Errorf("distro kernel: %s holds %d module trees, want 1", filepath.Base(deb), len(rels))
	}
	rel := filepath.Base(rels[0])
	if err := os.MkdirAll(filepath.Join(tree, "usr/lib/modules"), 0o755); err != nil {
		return "", fmt.Errorf("distro kernel: %w", err)
	}
	steps := [][]string{
		{"cp", "-a", "--", rels[0], filepath.Join(tree, "usr/lib/modules") + "/"},
		// mkinitramfs reads /boot/config-<release> to pick a compressor.
		{"cp", "-a", "--", filepath.Join(x, "boot") + "/.", filepath.Join(tree, "boot") + "/"},
		{"depmod", "-b", tree, rel},
	}
	for _, args := range steps {
		if err := execx.Check(ctx, args...); err != nil {
			return "", fmt.Errorf("distro kernel: %w", err)
		}
	}
	conf := map[string]string{
		"etc/initramfs-tools/modules":            initrdModules,
		"etc/initramfs-tools/conf.d/banger.conf": "MODULES=list\n",
	}
	for name, content := range conf {
		if err := os.WriteFile(filepath.Join(tree, name), []byte(content), 0o644); err != nil {
			return "", fmt.Errorf("distro kernel: %w", err)
		}
	}
	initrdInTree := "/tmp/banger-initrd.img"
	if err := execx.Check(ctx, "chroot", tree, "mkinitramfs", "-o", initrdInTree, rel); err != nil {
		return "", fmt.Errorf("distro kernel: build initrd: %w", err)
	}
	defer os.Remove(filepath.Join(tree, initrdInTree))
	copies := [][2]string{
		{filepath.Join(x, "boot", "vmlinuz-"+rel), filepath.Join(stage, vmlinuzName)},
		{filepath.Join(tree, initrdInTree), filepath.Join(stage, initrdName)},
	}
	for _, c := range copies {
		if err := copyFile(c[0], c[1]); err != nil {
			return "", fmt.Errorf("distro kernel: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(stage, modulesName), 0o755); err != nil {
		return "", fmt.Errorf("distro kernel: %w", err)
	}
	if err := execx.Check(ctx, "cp", "-a", "--", filepath.Join(tree, "usr/lib/modules", rel), filepath.Join(stage, modulesName)+"/"); err != nil {
		return "", fmt.Errorf("distro kernel: %w", err)
	}
	return rel, nil
}
