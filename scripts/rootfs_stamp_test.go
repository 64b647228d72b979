package scripts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/bundle"
)

// rootfsStamp is the stamp make-rootfs.sh must find for the package list
// pk and a base image holding base: the package hash with the base's
// SHA-256, computed here independently of the cache.
func rootfsStamp(t *testing.T, pk string, base []byte) string {
	t.Helper()
	sum := sha256.Sum256(base)
	return strings.TrimSpace(mustSh(t, "banger_packages_hash '"+pk+"' \"${BANGER_DOCKER_PACKAGES[@]}\" recipe:$BANGER_PROVISION_VERSION base:sha256:"+hex.EncodeToString(sum[:])))
}

func TestFileDigestIsCachedUntilTheFileChanges(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, filepath.Join(dir, "rootfs.ext4"), "base one")
	cache := filepath.Join(dir, ".base-sha256")
	digest := func() string {
		return strings.TrimSpace(mustSh(t, "banger_file_sha256 '"+f+"' '"+cache+"'"))
	}
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	if got := digest(); got != sum("base one") {
		t.Fatalf("digest %s, want %s", got, sum("base one"))
	}
	// An unchanged file is not read again: the cached digest is used.
	b, err := os.ReadFile(cache)
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(b)), sum("base one")) {
		t.Fatalf("cache %q, %v", b, err)
	}
	writeFile(t, cache, strings.Replace(string(b), sum("base one"), "cached", 1))
	if got := digest(); got != "cached" {
		t.Fatalf("unchanged file: digest %s, want the cached one", got)
	}
	// A write, even one that puts the old size and mtime back, is seen.
	fi, _ := os.Stat(f)
	writeFile(t, f, "base two")
	os.Chtimes(f, fi.ModTime(), fi.ModTime())
	if got := digest(); got != sum("base two") {
		t.Fatalf("rewritten file: digest %s, want %s", got, sum("base two"))
	}
	// The cache is best effort: an unwritable one still gives the digest.
	if got := strings.TrimSpace(mustSh(t, "banger_file_sha256 '"+f+"' '"+dir+"/no/such/dir/cache'")); got != sum("base two") {
		t.Fatalf("without a cache: %s", got)
	}
}

// TestMakeRootfsAfterFetch: a bundle packaged and fetched again (every
// file written anew) needs no rebuild of its default image, nor does a
// touched base; a base whose content changed does, even with its old size
// and time put back.
func TestMakeRootfsAfterFetch(t *testing.T) {
	rt := filepath.Join(t.TempDir(), "runtime")
	if err := os.MkdirAll(rt, 0o755); err != nil {
		t.Fatal(err)
	}
	base := make([]byte, 256<<10)
	rand.Read(base)
	writeFile(t, filepath.Join(rt, "rootfs.ext4"), string(base))
	pk := writeFile(t, filepath.Join(rt, "packages.apt"), "curl\n")
	writeFile(t, filepath.Join(rt, "rootfs-docker.ext4"), "docker image")
	writeFile(t, filepath.Join(rt, "vmlinux"), "\x7fELF\x02\x01\x01"+strings.Repeat("\x00", 64))
	writeFile(t, filepath.Join(rt, "rootfs-docker.ext4.packages.sha256"), rootfsStamp(t, pk, base)+"\n")
	makeRootfs := func(dir string, args ...string) (string, error) {
		cmd := exec.Command("./make-rootfs.sh", append([]string{"--runtime-dir", dir, "--packages", filepath.Join(dir, "packages.apt")}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := makeRootfs(rt); err != nil || !strings.Contains(out, "is up to date") {
		t.Fatalf("built bundle: %v\n%s", err, out)
	}

	manifest := writeFile(t, filepath.Join(t.TempDir(), bundle.ManifestFile), "url = \"https://example.invalid/b.tar.gz\"\nsha256 = \""+strings.Repeat("0", 64)+"\"\n")
	archive := filepath.Join(t.TempDir(), "banger-runtime.tar.gz")
	if _, err := bundle.Package(context.Background(), bundle.PackageOptions{RuntimeDir: rt, OutPath: archive, ManifestPath: manifest, WriteManifest: true}); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "fetched")
	if _, err := bundle.Fetch(context.Background(), bundle.FetchOptions{ManifestPath: manifest, TargetDir: target}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(target, bundle.DigestCacheFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the digest cache was packaged: %v", err)
	}
	out, err := makeRootfs(target)
	if err != nil || !strings.Contains(out, "is up to date") {
		t.Fatalf("package -> fetch -> make-rootfs.sh rebuilds: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(target, "rootfs-docker.ext4")); string(b) != "docker image" {
		t.Fatal("the up-to-date image was rewritten")
	}

	baseFile := filepath.Join(target, "rootfs.ext4")
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(baseFile, later, later); err != nil {
		t.Fatal(err)
	}
	if out, err := makeRootfs(target); err != nil || !strings.Contains(out, "is up to date") {
		t.Fatalf("a touched base rebuilds: %v\n%s", err, out)
	}

	base[1000] ^= 0xff
	writeFile(t, baseFile, string(base))
	if err := os.Chtimes(baseFile, later, later); err != nil {
		t.Fatal(err)
	}
	out, err = makeRootfs(target, "--check")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || !strings.Contains(out, "needs a build") {
		t.Fatalf("a changed base (same size and time): %v, want exit 3 saying it needs a build\n%s", err, out)
	}
}

// TestMakeRootfsTakesOverLegacyStamp: a stamp written before issue 27
// (keyed on the base's size and mtime) that still matches is rewritten to
// the content key instead of rebuilding; one that no longer matches builds.
func TestMakeRootfsTakesOverLegacyStamp(t *testing.T) {
	rt := t.TempDir()
	pk := writeFile(t, filepath.Join(rt, "packages.apt"), "curl\n")
	base := writeFile(t, filepath.Join(rt, "rootfs.ext4"), "base")
	writeFile(t, filepath.Join(rt, "rootfs-docker.ext4"), "docker")
	stamp := filepath.Join(rt, "rootfs-docker.ext4.packages.sha256")
	legacy := strings.TrimSpace(mustSh(t, "banger_packages_hash '"+pk+"' \"${BANGER_DOCKER_PACKAGES[@]}\" recipe:$BANGER_PROVISION_VERSION base:$(stat -c %s:%Y '"+base+"')"))
	writeFile(t, stamp, legacy+"\n")
	run := func(args ...string) (string, error) {
		out, err := exec.Command("./make-rootfs.sh", append([]string{"--runtime-dir", rt, "--packages", pk}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := run("--check"); err != nil || !strings.Contains(out, "is up to date") {
		t.Fatalf("legacy stamp, --check: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(stamp); strings.TrimSpace(string(b)) != legacy {
		t.Fatal("--check rewrote the stamp")
	}
	if out, err := run(); err != nil || !strings.Contains(out, "stamp now keyed on the base's content") {
		t.Fatalf("legacy stamp: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(stamp); strings.TrimSpace(string(b)) != rootfsStamp(t, pk, []byte("base")) {
		t.Fatalf("stamp after take-over %q", b)
	}
	// A legacy stamp whose base time moved on is not taken over.
	writeFile(t, stamp, legacy+"\n")
	later := time.Now().Add(time.Hour)
	os.Chtimes(base, later, later)
	out, err := run("--check")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("stale legacy stamp: %v, want exit 3\n%s", err, out)
	}
}
