package bundle

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestFetchRestoresTimesAndModes: package -> fetch keeps every entry's
// modification time (to the second) and permission bits, the derived image
// stored as a delta included, and packing the fetched bundle gives back
// the very archive it came from.
func TestFetchRestoresTimesAndModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runtime")
	imagePair(t, dir)
	writeFile(t, filepath.Join(dir, "bundle.json"), `{"kernel":"vmlinux","rootfs":"rootfs-docker.ext4","base_rootfs":"rootfs.ext4","helpers":{"customize":"customize.sh"}}`)
	writeFile(t, filepath.Join(dir, "customize.sh"), "#!/bin/sh\n")
	writeFile(t, filepath.Join(dir, "secret"), "key")
	writeFile(t, filepath.Join(dir, "modules/6.1.0/modules.dep"), "")
	if err := os.Symlink("vmlinux", filepath.Join(dir, "vmlinux-6.1")); err != nil {
		t.Fatal(err)
	}
	modes := map[string]os.FileMode{"customize.sh": 0o755, "secret": 0o600, "modules": 0o750, "modules/6.1.0": 0o700, "rootfs-docker.ext4": 0o640}
	for f, m := range modes {
		if err := os.Chmod(filepath.Join(dir, f), m); err != nil {
			t.Fatal(err)
		}
	}
	// Package writes bundle.json first; then date every entry apart.
	out := filepath.Join(t.TempDir(), "b.tar.gz")
	if _, err := Package(context.Background(), PackageOptions{RuntimeDir: dir, OutPath: out}); err != nil {
		t.Fatal(err)
	}
	when := map[string]time.Time{}
	i := 0
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		i++
		when[rel] = time.Date(2024, 3, 1, 12, 0, i, 500, time.UTC) // the 500 ns are not kept
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel, tm := range when {
		if rel == "vmlinux-6.1" {
			if err := setLinkMtime(filepath.Join(dir, rel), tm); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.Chtimes(filepath.Join(dir, rel), tm, tm); err != nil {
			t.Fatal(err)
		}
	}
	manifest := filepath.Join(t.TempDir(), ManifestFile)
	writeFile(t, manifest, "url = \"https://example.invalid/x\"\nsha256 = \""+sumOf(nil)+"\"\n")
	sum, err := Package(context.Background(), PackageOptions{RuntimeDir: dir, OutPath: out, ManifestPath: manifest, WriteManifest: true})
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "fetched")
	if _, err := Fetch(context.Background(), FetchOptions{ManifestPath: manifest, TargetDir: target}); err != nil {
		t.Fatal(err)
	}
	for rel, tm := range when {
		fi, err := os.Lstat(filepath.Join(target, rel))
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		if want := tm.Truncate(time.Second); !fi.ModTime().Equal(want) {
			t.Errorf("%s: mtime %v, want %v", rel, fi.ModTime(), want)
		}
		src, _ := os.Lstat(filepath.Join(dir, rel))
		if fi.Mode() != src.Mode() {
			t.Errorf("%s: mode %v, want %v", rel, fi.Mode(), src.Mode())
		}
	}
	for f, m := range modes {
		if fi, err := os.Stat(filepath.Join(target, f)); err != nil || fi.Mode().Perm() != m {
			t.Errorf("%s: %v %v, want mode %v", f, fi, err, m)
		}
	}
	// The fetched bundle packs to the archive it was fetched from.
	again, err := Package(context.Background(), PackageOptions{RuntimeDir: target, OutPath: filepath.Join(t.TempDir(), "again.tar.gz")})
	if err != nil || again != sum {
		t.Fatalf("packing the fetched bundle gave %s (%v), want %s", again, err, sum)
	}
}
