package bundlebuild

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/bangerdev/banger/internal/execx"
)

// microVM kernel file names, in the cache and in the bundle.
const (
	vmlinuxName = "vmlinux"
	bzImageName = "bzImage"
	releaseName = "kernel.release"
	configName  = "kernel.config"
)

// kernelResult describes a guest kernel ready in a directory.
type kernelResult struct {
	dir     string // holds vmlinux, bzImage, kernel.release, kernel.config
	release string
}

// sourceVersion identifies the kernel source tarball: the Debian package
// version when dpkg knows the file, else its size and modification time.
func sourceVersion(ctx context.Context, tarball string) (string, error) {
	info, err := os.Stat(tarball)
	if err != nil {
		return "", fmt.Errorf("kernel source: %w: install linux-source-6.1 (Debian) or set the kernel source path", err)
	}
	if out, err := execx.Output(ctx, "dpkg", "-S", tarball); err == nil {
		pkg, _, _ := strings.Cut(strings.TrimSpace(string(out)), ":")
		if v, err := execx.Output(ctx, "dpkg-query", "-W", "-f=${Version}", pkg); err == nil && len(v) > 0 {
			return pkg + "_" + strings.TrimSpace(string(v)), nil
		}
	}
	return fmt.Sprintf("%s_%d_%d", filepath.Base(tarball), info.Size(), info.ModTime().Unix()), nil
}

// fragmentOptions returns the CONFIG_ lines of a kconfig fragment as
// name→value ("n" for "# CONFIG_X is not set").
func fragmentOptions(data []byte) (map[string]string, []string) {
	opts := map[string]string{}
	var order []string
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		var name, val string
		switch {
		case strings.HasPrefix(l, "CONFIG_"):
			name, val, _ = strings.Cut(l, "=")
		case strings.HasPrefix(l, "# CONFIG_") && strings.HasSuffix(l, " is not set"):
			name, val = strings.TrimSuffix(strings.TrimPrefix(l, "# "), " is not set"), "n"
		default:
			continue
		}
		if _, dup := opts[name]; !dup {
			order = append(order, name)
		}
		opts[name] = val
	}
	return opts, order
}

// unstuckOptions lists the fragment lines that .config does not carry.
func unstuckOptions(fragment, config []byte) []string {
	want, order := fragmentOptions(fragment)
	have, _ := fragmentOptions(config)
	var bad []string
	for _, name := range order {
		w, h := want[name], have[name]
		if h == "" {
			h = "n" // absent from .config: not set
		}
		if w != h {
			bad = append(bad, fmt.Sprintf("%s=%s (got %s)", name, w, h))
		}
	}
	return bad
}

// microVMKernel returns the compiled kernel for the fragment, from the
// cache or by compiling it.
func microVMKernel(ctx context.Context, o Options) (*kernelResult, error) {
	frag, err := os.ReadFile(o.KernelFragment)
	if err != nil {
		return nil, fmt.Errorf("read kernel config fragment: %w: pass kernel/microvm.fragment of the banger checkout", err)
	}
	ver, err := sourceVersion(ctx, o.KernelSource)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(frag)
	dir := filepath.Join(o.CacheDir, "kernel", "microvm-"+ver+"-"+hex.EncodeToString(sum[:])[:16])
	if rel, err := os.ReadFile(filepath.Join(dir, releaseName)); err == nil {
		o.Log.Info("reusing cached microvm kernel", "dir", dir)
		return &kernelResult{dir: dir, release: strings.TrimSpace(string(rel))}, nil
	}
	for _, tool := range []string{"make", "gcc", "flex", "bison", "bc", "tar"} {
		if !execx.Have(tool) {
			return nil, fmt.Errorf("compile microvm kernel: %s not found: install build-essential flex bison bc libelf-dev libssl-dev (Debian) or use the distro kernel", tool)
		}
	}
	work, err := os.MkdirTemp(tmpDir(o), "kernel-")
	if err != nil {
		return nil, fmt.Errorf("compile microvm kernel: %w", err)
	}
	defer os.RemoveAll(work)
	o.Log.Info("compiling microvm kernel (several minutes)", "source", o.KernelSource, "work", work)
	if err := execx.Check(ctx, "tar", "-xf", o.KernelSource, "-C", work); err != nil {
		return nil, fmt.Errorf("unpack kernel source: %w", err)
	}
	src, err := singleSubdir(work)
	if err != nil {
		return nil, fmt.Errorf("unpack kernel source: %w", err)
	}
	if err := configureKernel(ctx, src, o.KernelFragment, frag); err != nil {
		return nil, err
	}
	jobs := o.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	counter := newCompileCounter(o.Detail, 15*time.Second)
	defer counter.done()
	if _, err := execx.Run(ctx, execx.Cmd{Dir: src, Args: []string{"make", "-j" + strconv.Itoa(jobs), "vmlinux", "bzImage"}, Stdout: counter}); err != nil {
		return nil, fmt.Errorf("compile microvm kernel: %w", err)
	}
	rel, err := execx.Run(ctx, execx.Cmd{Dir: src, Args: []string{"make", "-s", "kernelrelease"}})
	if err != nil {
		return nil, fmt.Errorf("compile microvm kernel: %w", err)
	}
	return storeKernel(dir, map[string]string{
		vmlinuxName: filepath.Join(src, "vmlinux"),
		bzImageName: filepath.Join(src, "arch/x86/boot/bzImage"),
		configName:  filepath.Join(src, ".config"),
	}, strings.TrimSpace(string(rel)))
}

// configureKernel runs tinyconfig, merges the fragment and checks that every
// option of the fragment survived.
func configureKernel(ctx context.Context, src, fragPath string, frag []byte) error {
	steps := [][]string{
		{"make", "-s", "tinyconfig"},
		{"./scripts/kconfig/merge_config.sh", "-m", ".config", fragPath},
		{"make", "-s", "olddefconfig"},
	}
	for _, args := range steps {
		if _, err := execx.Run(ctx, execx.Cmd{Dir: src, Args: args}); err != nil {
			return fmt.Errorf("configure microvm kernel: %w", err)
		}
	}
	config, err := os.ReadFile(filepath.Join(src, ".config"))
	if err != nil {
		return fmt.Errorf("configure microvm kernel: %w", err)
	}
	if bad := unstuckOptions(frag, config); len(bad) > 0 {
		return fmt.Errorf("configure microvm kernel: %d option(s) of %s did not take effect (a dependency is missing or the option does not exist in this kernel): %s: add the dependencies to the fragment or drop the options",
			len(bad), fragPath, strings.Join(bad, ", "))
	}
	return nil
}

// storeKernel copies the named files into the cache dir atomically (via a
// temporary sibling) and records the release.
func storeKernel(dir string, files map[string]string, release string) (*kernelResult, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("cache kernel: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".part-")
	if err != nil {
		return nil, fmt.Errorf("cache kernel: %w", err)
	}
	defer os.RemoveAll(tmp)
	for name, from := range files {
		if err := copyFile(from, filepath.Join(tmp, name)); err != nil {
			return nil, fmt.Errorf("cache kernel: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, releaseName), []byte(release+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("cache kernel: %w", err)
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("cache kernel: %w", err)
	}
	return &kernelResult{dir: dir, release: release}, nil
}

func singleSubdir(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	if len(entries) != 1 || !entries[0].IsDir() {
		return "", errors.New("expected one top-level directory in the source tarball")
	}
	return filepath.Join(dir, entries[0].Name()), nil
}
