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
	cmd.AddCommand(newBundleFetchCmd(e), newBundlePackageCmd(e), newBundleBuildCmd(e), newBundleShowCmd(e))
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

func newBundleFetchCmd(e *Env) *cobra.Command {
	var dir, manifest string
	cmd := &cobra.Command{
		Use:   "fetch",
		Short: "Download the bundle named by runtime-bundle.toml, verify its SHA-256 and unpack it",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			target, cache, _, err := e.bundleDirs(dir)
			if err != nil {
				return err
			}
			if manifest == "" {
				manifest = e.defaultManifest()
			}
			opts := bundle.FetchOptions{ManifestPath: manifest, TargetDir: target, CacheDir: filepath.Join(cache, "bundles")}
			if e.Output != "json" {
				opts.Progress = bundle.NewProgressBar(e.Err, -1)
			}
			res, err := bundle.Fetch(cmd.Context(), opts)
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
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "runtime dir to fill (default: the resolved runtime dir)")
	cmd.Flags().StringVar(&manifest, "manifest", "", "manifest path (default: runtime-bundle.toml next to banger)")
	return cmd
}

func newBundlePackageCmd(e *Env) *cobra.Command {
	var dir, out, manifest string
	var write bool
	cmd := &cobra.Command{
		Use:   "package",
		Short: "Pack the runtime dir into dist/banger-runtime.tar.gz with a fresh bundle.json",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, _, _, err := e.bundleDirs(dir)
			if err != nil {
				return err
			}
			if manifest == "" {
				manifest = e.defaultManifest()
			}
			sum, err := bundle.Package(cmd.Context(), bundle.PackageOptions{RuntimeDir: src, OutPath: out, ManifestPath: manifest, WriteManifest: write})
			if err != nil {
				return err
			}
			abs, _ := filepath.Abs(out)
			res := map[string]string{"archive": abs, "sha256": sum}
			return e.render(res, func(w io.Writer) error {
				fmt.Fprintf(w, "%s\nsha256 %s\n", abs, sum)
				if write {
					fmt.Fprintf(w, "%s now points at file://%s\n", manifest, abs)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "runtime dir to pack (default: the resolved runtime dir)")
	cmd.Flags().StringVar(&out, "out", "dist/banger-runtime.tar.gz", "archive to write")
	cmd.Flags().StringVar(&manifest, "manifest", "", "manifest to rewrite with --write-manifest")
	cmd.Flags().BoolVar(&write, "write-manifest", false, "point the manifest's url and sha256 at the new archive")
	return cmd
}

func newBundleBuildCmd(e *Env) *cobra.Command {
	o := bundlebuild.Options{}
	var dir string
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build a runtime bundle locally from Debian packages (debootstrap rootfs, microVM kernel)",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			target, cache, cfg, err := e.bundleDirs(dir)
			if err != nil {
				return err
			}
			o.OutDir = target
			if o.CacheDir == "" {
				o.CacheDir = cache
			}
			if o.FirecrackerBin == "" {
				o.FirecrackerBin = cfg.FirecrackerBin
			}
			if o.PackagesFile == "" && cfg.DefaultPackagesFile != "" {
				o.PackagesFile = cfg.DefaultPackagesFile
			}
			// The package list and kernel fragment ship in the source tree:
			// default to the checkout this banger was built in.
			src := filepath.Dir(e.defaultManifest())
			for _, p := range []struct {
				field *string
				rel   string
			}{{&o.PackagesFile, "packages.apt"}, {&o.KernelFragment, "kernel/microvm.fragment"}} {
				if *p.field == "" {
					if _, err := os.Stat(filepath.Join(src, p.rel)); err == nil {
						*p.field = filepath.Join(src, p.rel)
					}
				}
			}
			o.Progress = func(step string, i, n int) { fmt.Fprintf(e.Err, "[%d/%d] %s\n", i, n, step) }
			return runBundleBuild(cmd.Context(), e, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "runtime dir to fill (default: the resolved runtime dir)")
	f.StringVar(&o.CacheDir, "cache-dir", "", "cache for bootstrap tarballs and compiled kernels (default ~/.cache/banger)")
	f.StringVar(&o.Kernel, "kernel", bundlebuild.KernelMicroVM, "guest kernel: microvm (compiled), distro (Debian cloud kernel + initrd) or both")
	f.StringVar(&o.Suite, "suite", bundlebuild.DefaultSuite, "Debian suite")
	f.StringVar(&o.Mirror, "mirror", bundlebuild.DefaultMirror, "Debian mirror")
	f.StringVar(&o.PackagesFile, "packages", "", "apt package list (default packages.apt)")
	f.StringVar(&o.KernelFragment, "kernel-fragment", "", "kernel config fragment (default kernel/microvm.fragment)")
	f.StringVar(&o.FirecrackerBin, "firecracker", "", "firecracker binary to include (default: config firecracker_bin, then PATH)")
	f.StringVar(&o.GuestDir, "guest-dir", "", "directory with guest files replacing the built-in ones (see docs/guest-contract.md)")
	f.BoolVar(&o.Untuned, "untuned", false, "do not mask boot-time units (the stock baseline of make bench)")
	return cmd
}

func runBundleBuild(ctx context.Context, e *Env, o bundlebuild.Options) error {
	if err := bundlebuild.Build(ctx, o); err != nil {
		return err
	}
	fmt.Fprintf(e.Out, "runtime bundle built in %s\n", o.OutDir)
	return nil
}

func newBundleShowCmd(e *Env) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show what the resolved bundle contains, with sizes and checksums, and what is missing",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			target, _, _, err := e.bundleDirs(dir)
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
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "runtime dir (default: the resolved runtime dir)")
	return cmd
}
