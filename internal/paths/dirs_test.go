package paths

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/testenv"
)

func TestEnsureDirCreatesAndTightens(t *testing.T) {
	base := t.TempDir()
	d := filepath.Join(base, "a", "b")
	if err := EnsureDir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := EnsureDir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(d)
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %v, want 0700 after tightening", fi.Mode().Perm())
	}
	// Narrower than asked is left alone.
	if err := os.Chmod(d, 0o500); err != nil {
		t.Fatal(err)
	}
	if err := EnsureDir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	fi, _ = os.Stat(d)
	if fi.Mode().Perm() != 0o500 {
		t.Errorf("mode %v, want 0500 left untouched", fi.Mode().Perm())
	}
}

func TestEnsureDirRefusesFilesAndSymlinks(t *testing.T) {
	base := t.TempDir()
	f := filepath.Join(base, "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := EnsureDir(f, 0o700); err == nil {
		t.Error("EnsureDir on a regular file succeeded")
	}
	target := filepath.Join(base, "target")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := EnsureDir(link, 0o700); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("EnsureDir on a symlink: %v, want a symlink error", err)
	}
	if err := EnsurePrivateDir(link); err == nil {
		t.Error("EnsurePrivateDir on a symlink succeeded")
	}
}

func TestEnsurePrivateDirRefusesForeignOwner(t *testing.T) {
	testenv.RequireRoot(t, "creates a directory owned by another user")
	d := filepath.Join(t.TempDir(), "banger-x")
	if err := os.Mkdir(d, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(d, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	err := EnsurePrivateDir(d)
	if err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Fatalf("got %v, want a refusal naming the foreign owner", err)
	}
	fi, _ := os.Stat(d)
	if fi.Mode().Perm() != 0o777 {
		t.Errorf("refused directory was modified: mode %v", fi.Mode().Perm())
	}
}

func TestCheckPrivateDirForeignOwner(t *testing.T) {
	d := t.TempDir()
	// Pretend to be someone else: the directory is ours, so for any other
	// uid it is foreign.
	other := os.Geteuid() + 1
	if err := checkPrivateDir(d, other); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("got %v, want a refusal", err)
	}
	if err := checkPrivateDir(d, os.Geteuid()); err != nil {
		t.Fatalf("own directory refused: %v", err)
	}
	if err := checkPrivateDir(filepath.Join(d, "missing"), os.Geteuid()); !os.IsNotExist(err) {
		t.Fatalf("missing directory: got %v, want not-exist", err)
	}
}

func TestEnsurePrivateDirTightens(t *testing.T) {
	d := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := EnsurePrivateDir(d); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(d)
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %v, want 0700", fi.Mode().Perm())
	}
}
