package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/bundle"
	"github.com/bangerdev/banger/internal/bundlebuild"
	"github.com/bangerdev/banger/internal/config"
	"github.com/bangerdev/banger/internal/units"
)

// Bundle commands work on files only (the runtime dir, the manifest, the
// cache), so the CLI runs them itself: they are needed before any daemon
// can boot a VM, e.g. by `make runtime-bundle`.
func newBundleCmd(e *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "bundle", Short: "Fetch, build, package and inspect the runtime bundle"}
	cmd.AddCommand(newBundleFetchCmd(e, nil), newBundlePackageCmd(e, nil), newBundleBuildCmd(e, nil), newBundleShowCmd(e, nil))
	return cmd
}

// bundleDirs resolves the runtime dir (--dir wins) and the cache dir.
func (e *Env) bundleDirs(dirFlag string) (dir, cache string, cfg *config.Config, err error) {
	l, err := e.layout()
	if err != nil {
		return "", "", nil, err
	}
	cfg, err = config.Load(l.ConfigFile, e.Getenv)
	if err != nil {
		return "", "", nil, err
	}
	if dirFlag != "" {
		dir, err = filepath.Abs(dirFlag)
		return dir, l.CacheDir, cfg, err
	}
	if err := cfg.ResolveRuntimeDir(e.Exe); err != nil {
		return "", "", nil, fmt.Errorf("%v; or pass --dir", err)
	}
	return cfg.RuntimeDir, l.CacheDir, cfg, nil
}

// defaultManifest is runtime-bundle.toml next to a source-checkout binary.
func (e *Env) defaultManifest() string {
	if e.Exe == "" {
		return "runtime-bundle.toml"
	}
	real, err := filepath.EvalSymlinks(e.Exe)
	if err != nil {
		real = e.Exe
	}
	return filepath.Join(filepath.Dir(real), "runtime-bundle.toml")
}

// BundleFetchOptions are the flags of `banger bundle fetch`.
type BundleFetchOptions struct {
	Dir      string
	Manifest string
}

func newBundleFetchCmd(e *Env, runF func(*BundleFetchOptions) error) *cobra.Command {
	o := &BundleFetchOptions{}
	cmd := noArgsCmd("fetch", "Download the bundle named by runtime-bundle.toml, verify its SHA-256 and unpack it", func(cmd *cobra.Command) error {
		return runWith(cmd, e, o, runF, bundleFetchRun)
	})
	cmd.Flags().StringVar(&o.Dir, "dir", "", "runtime dir to fill (default: the resolved runtime dir)")
	cmd.Flags().StringVar(&o.Manifest, "manifest", "", "manifest path (default: runtime-bundle.toml next to banger)")
	return cmd
}

func bundleFetchRun(ctx context.Context, e *Env, o *BundleFetchOptions) error {
	target, cache, _, err := e.bundleDirs(o.Dir)
	if err != nil {
		return err
	}
	manifest := o.Manifest
	if manifest == "" {
		manifest = e.defaultManifest()
	}
	opts := bundle.FetchOptions{ManifestPath: manifest, TargetDir: target, CacheDir: filepath.Join(cache, "bundles")}
	if e.Output != "json" {
		opts.Progress = bundle.NewProgressBar(e.Err, -1)
	}
	res, err := bundle.Fetch(ctx, opts)
	if err != nil {
		return err
	}
	return e.render(res, func(w io.Writer) error {
		if res.UpToDate {
			_, err := fmt.Fprintf(w, "runtime bundle in %s is up to date (sha256 %s)\n", res.TargetDir, res.SHA256)
			return err
		}
		_, err := fmt.Fprintf(w, "runtime bundle unpacked into %s (sha256 %s)\n", res.TargetDir, res.SHA256)
		return err
	})
}

// BundlePackageOptions are the flags of `banger bundle package`.
type BundlePackageOptions struct {
	Dir           string
	Out           string
	Manifest      string
	WriteManifest bool
}

func newBundlePackageCmd(e *Env, runF func(*BundlePackageOptions) error) *cobra.Command {
	o := &BundlePackageOptions{}
	cmd := noArgsCmd("package", "Pack the runtime dir into dist/banger-runtime.tar.gz with a fresh bundle.json", func(cmd *cobra.Command) error {
		return runWith(cmd, e, o, runF, bundlePackageRun)
	})
	cmd.Flags().StringVar(&o.Dir, "dir", "", "runtime dir to pack (default: the resolved runtime dir)")
	cmd.Flags().StringVar(&o.Out, "out", "dist/banger-runtime.tar.gz", "archive to write")
	cmd.Flags().StringVar(&o.Manifest, "manifest", "", "manifest to rewrite with --write-manifest")
	cmd.Flags().BoolVar(&o.WriteManifest, "write-manifest", false, "point the manifest's url and sha256 at the new archive")
	return cmd
}

func bundlePackageRun(ctx context.Context, e *Env, o *BundlePackageOptions) error {
	src, _, _, err := e.bundleDirs(o.Dir)
	if err != nil {
		return err
	}
	manifest := o.Manifest
	if manifest == "" {
		manifest = e.defaultManifest()
	}
	sum, err := bundle.Package(ctx, bundle.PackageOptions{RuntimeDir: src, OutPath: o.Out, ManifestPath: manifest, WriteManifest: o.WriteManifest})
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(o.Out)
	res := map[string]string{"archive": abs, "sha256": sum}
	return e.render(res, func(w io.Writer) error {
		fmt.Fprintf(w, "%s\nsha256 %s\n", abs, sum)
		if o.WriteManifest {
			fmt.Fprintf(w, "%s now points at file://%s\n", manifest, abs)
		}
		return nil
	})
}

// BundleBuildOptions are the flags of `banger bundle build`.
type BundleBuildOptions struct {
	// Dir is the runtime dir to fill; empty means the resolved one.
	Dir string
	// Build holds the builder's flags; paths left empty get defaults.
	Build bundlebuild.Options
}

func newBundleBuildCmd(e *Env, runF func(*BundleBuildOptions) error) *cobra.Command {
	o := &BundleBuildOptions{}
	cmd := noArgsCmd("build", "Build a runtime bundle locally from Debian packages (debootstrap rootfs, microVM kernel)", func(cmd *cobra.Command) error {
		return runWith(cmd, e, o, runF, bundleBuildRun)
	})
	f, b := cmd.Flags(), &o.Build
	f.StringVar(&o.Dir, "dir", "", "runtime dir to fill (default: the resolved runtime dir)")
	f.StringVar(&b.CacheDir, "cache-dir", "", "cache for bootstrap tarballs and compiled kernels (default ~/.cache/banger)")
	f.StringVar(&b.Kernel, "kernel", bundlebuild.KernelMicroVM, "guest kernel: microvm (compiled), distro (Debian cloud kernel + initrd) or both")
	f.StringVar(&b.Suite, "suite", bundlebuild.DefaultSuite, "Debian suite")
	f.StringVar(&b.Mirror, "mirror", bundlebuild.DefaultMirror, "Debian mirror")
	f.StringVar(&b.PackagesFile, "packages", "", "apt package list (default packages.apt)")
	f.StringVar(&b.KernelFragment, "kernel-fragment", "", "kernel config fragment (default kernel/microvm.fragment)")
	f.StringVar(&b.FirecrackerBin, "firecracker", "", "firecracker binary to include (default: config firecracker_bin, then PATH)")
	f.StringVar(&b.GuestDir, "guest-dir", "", "directory with guest files replacing the built-in ones (see docs/guest-contract.md)")
	f.BoolVar(&b.Untuned, "untuned", false, "do not mask boot-time units (the stock baseline of make bench)")
	return cmd
}

func bundleBuildRun(ctx context.Context, e *Env, o *BundleBuildOptions) error {
	target, cache, cfg, err := e.bundleDirs(o.Dir)
	if err != nil {
		return err
	}
	b := o.Build
	b.OutDir = target
	if b.CacheDir == "" {
		b.CacheDir = cache
	}
	if b.FirecrackerBin == "" {
		b.FirecrackerBin = cfg.FirecrackerBin
	}
	if b.PackagesFile == "" && cfg.DefaultPackagesFile != "" {
		b.PackagesFile = cfg.DefaultPackagesFile
	}
	// The package list and kernel fragment ship in the source tree:
	// default to the checkout this banger was built in.
	src := filepath.Dir(e.defaultManifest())
	for _, p := range []struct {
		field *string
		rel   string
	}{{&b.PackagesFile, "packages.apt"}, {&b.KernelFragment, "kernel/microvm.fragment"}} {
		if *p.field == "" {
			if _, err := os.Stat(filepath.Join(src, p.rel)); err == nil {
				*p.field = filepath.Join(src, p.rel)
			}
		}
	}
	b.Progress = func(step string, i, n int) { fmt.Fprintf(e.Err, "[%d/%d] %s\n", i, n, step) }
	b.Detail = func(msg string) { fmt.Fprintf(e.Err, "      %s\n", msg) }
	if err := bundlebuild.Build(ctx, b); err != nil {
		return err
	}
	fmt.Fprintf(e.Out, "runtime bundle built in %s\n", b.OutDir)
	return nil
}

// BundleShowOptions are the flags of `banger bundle show`.
type BundleShowOptions struct {
	Dir string
}

func newBundleShowCmd(e *Env, runF func(*BundleShowOptions) error) *cobra.Command {
	o := &BundleShowOptions{}
	cmd := noArgsCmd("show", "Show what the resolved bundle contains, with sizes and checksums, and what is missing", func(cmd *cobra.Command) error {
		return runWith(cmd, e, o, runF, bundleShowRun)
	})
	cmd.Flags().StringVar(&o.Dir, "dir", "", "runtime dir (default: the resolved runtime dir)")
	return cmd
}

func bundleShowRun(_ context.Context, e *Env, o *BundleShowOptions) error {
	target, _, _, err := e.bundleDirs(o.Dir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(target); err != nil {
		return fmt.Errorf("no runtime bundle at %s: build one with 'make runtime-bundle-local' or fetch one with 'make runtime-bundle'", target)
	}
	files, err := bundle.Describe(target)
	if err != nil {
		return err
	}
	return e.render(files, func(w io.Writer) error {
		fmt.Fprintf(w, "bundle: %s\n", target)
		rows := make([][]string, 0, len(files))
		for _, f := range files {
			sum := f.SHA256
			if len(sum) > 16 {
				sum = sum[:16]
			}
			rows = append(rows, []string{f.Role, f.Status, units.HumanSize(f.Size), dash(sum), dash(f.Path)})
		}
		return table(w, []string{"ROLE", "STATUS", "SIZE", "SHA256", "PATH"}, rows)
	})
}
