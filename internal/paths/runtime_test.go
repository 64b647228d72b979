package paths

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFile creates path (and parents) with content.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
}

var noEnv = envOf(nil)

func TestRuntimeDirEnvWins(t *testing.T) {
	env := envOf(map[string]string{EnvRuntimeDir: "/opt/bundle"})
	dir, src, err := ResolveRuntimeDir("/nonexistent/banger", "/from/config", env)
	if err != nil || dir != "/opt/bundle" || src != RuntimeFromEnv {
		t.Fatalf("got %q %q %v", dir, src, err)
	}
}

func TestRuntimeDirEnvRelativeMadeAbsolute(t *testing.T) {
	dir, _, err := ResolveRuntimeDir("", "", envOf(map[string]string{EnvRuntimeDir: "rt"}))
	if err != nil || !filepath.IsAbs(dir) || filepath.Base(dir) != "rt" {
		t.Fatalf("got %q %v", dir, err)
	}
}

func TestRuntimeDirConfig(t *testing.T) {
	dir, src, err := ResolveRuntimeDir("/nonexistent/banger", "/from/config/", noEnv)
	if err != nil || dir != "/from/config" || src != RuntimeFromConfig {
		t.Fatalf("got %q %q %v", dir, src, err)
	}
}

func TestRuntimeDirInstalled(t *testing.T) {
	prefix := t.TempDir()
	exe := filepath.Join(prefix, "bin", "banger")
	writeFile(t, exe, "#!fake")
	mkdir(t, filepath.Join(prefix, "lib", "banger"))

	dir, src, err := ResolveRuntimeDir(exe, "", noEnv)
	if err != nil || dir != filepath.Join(prefix, "lib", "banger") || src != RuntimeFromInstall {
		t.Fatalf("got %q %q %v", dir, src, err)
	}

	// A symlink elsewhere (e.g. ~/bin/banger) resolves to the install.
	other := t.TempDir()
	link := filepath.Join(other, "bin", "banger")
	mkdir(t, filepath.Dir(link))
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	dir, src, err = ResolveRuntimeDir(link, "", noEnv)
	if err != nil || dir != filepath.Join(prefix, "lib", "banger") || src != RuntimeFromInstall {
		t.Fatalf("via symlink: got %q %q %v", dir, src, err)
	}
}

func TestRuntimeDirCheckoutGoMod(t *testing.T) {
	repo := t.TempDir()
	writeFile(t, filepath.Join(repo, "go.mod"), "// banger\nmodule github.com/bangerdev/banger // the module\n\ngo 1.26\n")
	exe := filepath.Join(repo, "banger")
	writeFile(t, exe, "#!fake")
	dir, src, err := ResolveRuntimeDir(exe, "", noEnv)
	if err != nil || dir != filepath.Join(repo, "runtime") || src != RuntimeFromCheckout {
		t.Fatalf("got %q %q %v", dir, src, err)
	}
	// Binaries built into ./bin of the checkout find it too, even though
	// the directory is named bin (no lib/banger next to it).
	exe2 := filepath.Join(repo, "bin", "bangerd")
	writeFile(t, exe2, "#!fake")
	dir, src, err = ResolveRuntimeDir(exe2, "", noEnv)
	if err != nil || dir != filepath.Join(repo, "runtime") || src != RuntimeFromCheckout {
		t.Fatalf("bin/: got %q %q %v", dir, src, err)
	}
}

func TestRuntimeDirCheckoutRuntimeDir(t *testing.T) {
	repo := t.TempDir()
	exe := filepath.Join(repo, "banger")
	writeFile(t, exe, "#!fake")
	mkdir(t, filepath.Join(repo, "runtime"))
	dir, src, err := ResolveRuntimeDir(exe, "", noEnv)
	if err != nil || dir != filepath.Join(repo, "runtime") || src != RuntimeFromCheckout {
		t.Fatalf("got %q %q %v", dir, src, err)
	}
}

func TestRuntimeDirOtherModuleIsNotACheckout(t *testing.T) {
	repo := t.TempDir()
	writeFile(t, filepath.Join(repo, "go.mod"), "module example.com/other\n")
	exe := filepath.Join(repo, "banger")
	writeFile(t, exe, "#!fake")
	_, _, err := ResolveRuntimeDir(exe, "", noEnv)
	if err == nil {
		t.Fatal("a foreign go.mod was taken for a banger checkout")
	}
	for _, want := range []string{"make runtime-bundle", "runtime_dir", EnvRuntimeDir} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestRuntimeDirInstalledWithoutBundle(t *testing.T) {
	prefix := t.TempDir()
	exe := filepath.Join(prefix, "bin", "banger")
	writeFile(t, exe, "#!fake")
	_, _, err := ResolveRuntimeDir(exe, "", noEnv)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(prefix, "lib", "banger")) {
		t.Fatalf("got %v, want an error naming the missing lib/banger", err)
	}
}

func TestRuntimeDirMissingExe(t *testing.T) {
	_, _, err := ResolveRuntimeDir(filepath.Join(t.TempDir(), "gone"), "", noEnv)
	if err == nil || !strings.Contains(err.Error(), "runtime_dir") {
		t.Fatalf("got %v", err)
	}
}
