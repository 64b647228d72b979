package bundlebuild

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/bangerdev/banger/internal/preflight"
)

// Names of the files Build writes into Options.OutDir.
const (
	RootfsName       = "rootfs-docker.ext4"
	BaseRootfsName   = "rootfs.ext4"
	PackagesName     = "packages.apt"
	PackagesStamp    = "packages.sha256"
	FirecrackerName  = "firecracker"
	MetadataFileName = "bundle.json"
)

// managed lists every OutDir entry Build owns: entries a build does not
// produce are removed so bundle.json describes the directory exactly.
var managed = append([]string{
	RootfsName, DockerStampName, BaseRootfsName, PackagesName, PackagesStamp, FirecrackerName,
	MetadataFileName, vmlinuxName, bzImageName, vmlinuzName, initrdName,
	modulesName, configName,
}, helperFiles()...)

// progress serialises Options.Progress calls.
type progress struct {
	mu sync.Mutex
	fn func(string, int, int)
	i  int
	n  int
}

func (p *progress) step(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.i++
	if p.fn != nil {
		p.fn(name, p.i, p.n)
	}
}

// Build assembles a runtime bundle in o.OutDir (see the package doc). It
// needs root (debootstrap, chroot). The microVM kernel compiles while the
// root filesystem is bootstrapped. The bundle is staged beside OutDir and
// moved in at the end, so a failed build leaves the old bundle intact.
func Build(ctx context.Context, o Options) error {
	o, err := o.withDefaults()
	if err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return errors.New("bundle build: needs root for debootstrap and chroot: run it with sudo")
	}
	if err := preflight.Check("bundle build", preflight.ForBundleBuild(o.Kernel)...); err != nil {
		return err
	}
	pl, err := ReadPackages(o.PackagesFile)
	if err != nil {
		return err
	}
	fc, err := o.firecracker()
	if err != nil {
		return err
	}
	for _, d := range []string{o.CacheDir, filepath.Dir(o.OutDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("bundle build: %w", err)
		}
	}
	stage, err := os.MkdirTemp(filepath.Dir(o.OutDir), ".bundle-build-")
	if err != nil {
		return fmt.Errorf("bundle build: staging directory: %w", err)
	}
	defer os.RemoveAll(stage)
	tree, err := os.MkdirTemp(tmpDir(o), "rootfs-")
	if err != nil {
		return fmt.Errorf("bundle build: %w", err)
	}
	defer os.RemoveAll(tree)

	n := 7
	if o.wantMicroVM() {
		n++
	}
	if o.wantDistro() {
		n++
	}
	p := &progress{fn: o.Progress, n: n}
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var kres *kernelResult
	kerr := make(chan error, 1)
	if o.wantMicroVM() {
		p.step("kernel: microvm (compiles once, then cached)")
		go func() {
			var err error
			kres, err = microVMKernel(ctx, o)
			kerr <- err
		}()
	} else {
		kerr <- nil
	}
	fail := func(err error) error {
		cancel()
		<-kerr
		return err
	}

	p.step("rootfs: debootstrap " + o.Suite + " (cached by package list)")
	if err := bootstrapTree(ctx, o, pl, tree); err != nil {
		return fail(err)
	}
	p.step("rootfs: install guest files")
	if err := customize(o, tree); err != nil {
		return fail(err)
	}
	meta := newMetadata(o, pl)
	if o.wantDistro() {
		p.step("kernel: distro " + distroMeta + " with initrd")
		rel, err := installDistroKernel(ctx, o, tree, stage)
		if err != nil {
			return fail(err)
		}
		meta.distro(o, rel)
	}
	p.step("image: " + BaseRootfsName)
	size, err := makeExt4(ctx, tree, filepath.Join(stage, BaseRootfsName), RootfsLabel)
	if err != nil {
		return fail(err)
	}
	o.Log.Info("root filesystem image made", "size_bytes", size)
	p.step("image: " + RootfsName + " (base + Docker Engine, make-rootfs.sh)")
	if err := dockerImage(ctx, o, pl, stage); err != nil {
		return fail(err)
	}
	if err := <-kerr; err != nil {
		return err
	}
	if kres != nil {
		if err := stageMicroVM(kres, stage); err != nil {
			return err
		}
		meta.microVM(kres.release)
	}
	p.step("bundle: package list, helpers and firecracker")
	if err := stageExtras(o, pl, fc, stage, meta); err != nil {
		return err
	}
	p.step("bundle: " + MetadataFileName)
	if err := writeMetadata(stage, meta); err != nil {
		return err
	}
	p.step("bundle: install into " + o.OutDir)
	if err := install(stage, o.OutDir); err != nil {
		return err
	}
	o.Log.Info("runtime bundle built", "dir", o.OutDir, "took", time.Since(start).Round(time.Second))
	return nil
}

func stageMicroVM(k *kernelResult, stage string) error {
	for _, name := range []string{vmlinuxName, bzImageName, configName} {
		if err := copyFile(filepath.Join(k.dir, name), filepath.Join(stage, name)); err != nil {
			return fmt.Errorf("bundle build: copy kernel: %w", err)
		}
	}
	return nil
}

func stageExtras(o Options, pl *PackageList, fc, stage string, meta *metadata) error {
	if err := os.WriteFile(filepath.Join(stage, PackagesName), pl.Raw, 0o644); err != nil {
		return fmt.Errorf("bundle build: %w", err)
	}
	if err := os.WriteFile(filepath.Join(stage, PackagesStamp), []byte(pl.SHA256+"\n"), 0o644); err != nil {
		return fmt.Errorf("bundle build: %w", err)
	}
	if err := stageHelpers(stage, meta); err != nil {
		return err
	}
	if fc == "" {
		o.Log.Info("no firecracker binary found; the bundle has none")
		return nil
	}
	if err := copyFile(fc, filepath.Join(stage, FirecrackerName)); err != nil {
		return fmt.Errorf("bundle build: copy firecracker: %w", err)
	}
	meta.m.Firecracker = FirecrackerName
	return nil
}

// install moves every staged entry into out, replacing entries of the same
// name and removing managed entries this build did not produce.
func install(stage, out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("bundle build: %w", err)
	}
	for _, name := range managed {
		if _, err := os.Lstat(filepath.Join(stage, name)); err != nil {
			if err := os.RemoveAll(filepath.Join(out, name)); err != nil {
				return fmt.Errorf("bundle build: remove stale %s: %w", name, err)
			}
		}
	}
	entries, err := os.ReadDir(stage)
	if err != nil {
		return fmt.Errorf("bundle build: %w", err)
	}
	for _, e := range entries {
		dst := filepath.Join(out, e.Name())
		if err := os.RemoveAll(dst); err != nil {
			return fmt.Errorf("bundle build: replace %s: %w", dst, err)
		}
		if err := os.Rename(filepath.Join(stage, e.Name()), dst); err != nil {
			return fmt.Errorf("bundle build: install %s: %w", dst, err)
		}
	}
	return nil
}
