package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/bundle"
	"github.com/bangerdev/banger/internal/testenv"
)

// TestBundleRoundTrip packages the built runtime bundle, points a copy of
// the manifest at the archive and fetches it into a fresh dir: the result
// must be identical (same bundle.json, same file checksums). A second fetch
// is a no-op.
func TestBundleRoundTrip(t *testing.T) {
	testenv.SkipShort(t, "packs the whole runtime bundle")
	rt := runtimeDir(t)
	_, file, _, _ := runtime.Caller(0)
	repo := filepath.Dir(filepath.Dir(file))
	work := t.TempDir()
	manifest := filepath.Join(work, "runtime-bundle.toml")
	orig, err := os.ReadFile(filepath.Join(repo, "runtime-bundle.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(manifest, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	e := newEnvAt(t, rt, "")
	archive := filepath.Join(work, "dist", "banger-runtime.tar.gz")
	e.MustRun("bundle", "package", "--dir", rt, "--out", archive, "--manifest", manifest, "--write-manifest")
	m, _ := os.ReadFile(manifest)
	if !strings.Contains(string(m), "file://"+archive) {
		t.Fatalf("manifest not pointed at the archive:\n%s", m)
	}
	target := filepath.Join(work, "runtime")
	out := e.MustRun("bundle", "fetch", "--manifest", manifest, "--dir", target)
	if !strings.Contains(out, "unpacked") {
		t.Fatalf("fetch: %q", out)
	}
	want, got := treeSums(t, rt), treeSums(t, target)
	// Local caches, never packaged: the fetch stamp and the base digest.
	for _, cache := range []string{".bundle-sha256", bundle.DigestCacheFile} {
		delete(want, cache)
		delete(got, cache)
	}
	if len(want) != len(got) {
		t.Fatalf("fetched bundle has %d files, original %d", len(got), len(want))
	}
	for p, s := range want {
		if got[p] != s {
			t.Fatalf("%s differs after the round trip", p)
		}
	}
	if out := e.MustRun("bundle", "fetch", "--manifest", manifest, "--dir", target); !strings.Contains(out, "up to date") {
		t.Fatalf("second fetch was not a no-op: %q", out)
	}
}

func treeSums(t *testing.T, root string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		sums[rel] = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}
