package paths

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ModulePath is banger's Go module path, used to recognise a source checkout.
const ModulePath = "github.com/bangerdev/banger"

// Sources ResolveRuntimeDir reports.
const (
	RuntimeFromEnv      = "env " + EnvRuntimeDir
	RuntimeFromConfig   = "config runtime_dir"
	RuntimeFromInstall  = "installed layout (<prefix>/lib/banger)"
	RuntimeFromCheckout = "source checkout (./runtime)"
)

// ResolveRuntimeDir finds the runtime bundle directory. In order:
//
//  1. BANGER_RUNTIME_DIR (read through env), made absolute;
//  2. cfgRuntimeDir (config runtime_dir, already absolute);
//  3. an installed binary, <prefix>/bin/banger with <prefix>/lib/banger
//     present: <prefix>/lib/banger;
//  4. a source-checkout binary, whose directory (or its parent, for builds
//     into ./bin) holds banger's go.mod, or whose directory has a runtime/
//     subdirectory: <checkout>/runtime (it may not exist yet: `make
//     runtime-bundle` creates it).
//
// exePath is usually os.Executable(); symlinks are resolved first, so a
// symlink in ~/bin to an installed binary still finds its bundle. source is
// one of the RuntimeFrom* constants.
func ResolveRuntimeDir(exePath, cfgRuntimeDir string, env func(string) string) (dir, source string, err error) {
	if v := env(EnvRuntimeDir); v != "" {
		abs, err := filepath.Abs(v)
		if err != nil {
			return "", "", fmt.Errorf("resolve %s=%q: %w", EnvRuntimeDir, v, err)
		}
		return abs, RuntimeFromEnv, nil
	}
	if cfgRuntimeDir != "" {
		return filepath.Clean(cfgRuntimeDir), RuntimeFromConfig, nil
	}
	if exePath == "" {
		return "", "", noBundleError("the banger binary's location is unknown")
	}
	exe, err := filepath.EvalSymlinks(exePath)
	if err != nil {
		return "", "", fmt.Errorf("resolve the banger binary %s: %w; set runtime_dir in config.toml or %s", exePath, err, EnvRuntimeDir)
	}
	exe, err = filepath.Abs(exe)
	if err != nil {
		return "", "", err
	}
	exeDir := filepath.Dir(exe)
	if filepath.Base(exeDir) == "bin" {
		lib := filepath.Join(filepath.Dir(exeDir), "lib", "banger")
		if isDir(lib) {
			return lib, RuntimeFromInstall, nil
		}
	}
	for _, d := range []string{exeDir, filepath.Dir(exeDir)} {
		if isBangerModule(filepath.Join(d, "go.mod")) {
			return filepath.Join(d, "runtime"), RuntimeFromCheckout, nil
		}
	}
	if rt := filepath.Join(exeDir, "runtime"); isDir(rt) {
		return rt, RuntimeFromCheckout, nil
	}
	return "", "", noBundleError(fmt.Sprintf("%s is neither an installed binary (no %s) nor in a source checkout",
		exe, filepath.Join(filepath.Dir(exeDir), "lib", "banger")))
}

func noBundleError(why string) error {
	return fmt.Errorf("cannot find the runtime bundle: %s; run 'make runtime-bundle' (then 'make install') in a banger checkout, "+
		"or set runtime_dir in ~/.config/banger/config.toml or %s to a bundle directory", why, EnvRuntimeDir)
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// isBangerModule reports whether the go.mod at path declares banger's module.
func isBangerModule(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 2 && fields[0] == "module" {
			return strings.Trim(fields[1], "\"`") == ModulePath
		}
	}
	return false
}
