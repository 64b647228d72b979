package bundle

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fetchOnce fetches m into e's target and returns the result and the
// number of requests the server has seen so far.
func (e *fetchEnv) fetchOnce(t *testing.T, m *Manifest) (Result, int32) {
	t.Helper()
	res, err := Fetch(context.Background(), FetchOptions{Manifest: m, TargetDir: e.target, CacheDir: e.cache})
	if err != nil {
		t.Fatalf("fetch %s: %v", m.SHA256[:12], err)
	}
	return res, e.requests.Load()
}

// TestFetchReverifiesTheCacheAndFollowsTheManifest: a cached archive that
// no longer matches its SHA-256 (changed on disk after the download) is
// downloaded again, never unpacked; a manifest naming another SHA-256 than
// the installed bundle's stamp is fetched even though a bundle is there;
// the cache keeps each archive under its own digest, so going back to an
// earlier manifest reuses its archive without a download.
func TestFetchReverifiesTheCacheAndFollowsTheManifest(t *testing.T) {
	e := newFetchEnv(t)
	url := e.serve(t)
	archA := makeTarGz(t, entry{name: "./", typ: tar.TypeDir, mode: 0o755}, reg("vmlinux", elfKernel()), reg("rootfs.ext4", "rootfs A"))
	archB := makeTarGz(t, entry{name: "./", typ: tar.TypeDir, mode: 0o755}, reg("vmlinux", elfKernel()), reg("rootfs.ext4", "rootfs B"))
	meta := &Metadata{Kernel: "vmlinux", Rootfs: "rootfs.ext4"}
	mA := &Manifest{URL: url, SHA256: sumOf(archA), BundleMetadata: meta}
	mB := &Manifest{URL: url, SHA256: sumOf(archB), BundleMetadata: meta}
	rootfs := func() string {
		b, _ := os.ReadFile(filepath.Join(e.target, "rootfs.ext4"))
		return string(b)
	}

	e.archive = archA
	if res, n := e.fetchOnce(t, mA); !res.Downloaded || n != 1 || rootfs() != "rootfs A" {
		t.Fatalf("first fetch: %+v, %d requests, rootfs %q", res, n, rootfs())
	}

	// The cached archive changes on disk (same size, other bytes); the next
	// fetch that needs it must notice and download it again.
	cached := filepath.Join(e.cache, "banger-runtime-"+mA.SHA256+".tar.gz")
	data, err := os.ReadFile(cached)
	if err != nil {
		t.Fatalf("archive not cached under its digest: %v", err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(cached, data, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(e.target, StampFile))
	if res, n := e.fetchOnce(t, mA); !res.Downloaded || n != 2 || rootfs() != "rootfs A" {
		t.Fatalf("fetch over a corrupted cache: %+v, %d requests (want 2), rootfs %q", res, n, rootfs())
	}

	// A changed manifest: the installed bundle is stamped with A, B is
	// fetched and installed.
	e.archive = archB
	res, n := e.fetchOnce(t, mB)
	if res.UpToDate || !res.Downloaded || n != 3 || rootfs() != "rootfs B" {
		t.Fatalf("fetch of a changed manifest: %+v, %d requests (want 3), rootfs %q", res, n, rootfs())
	}
	if stamp, _ := os.ReadFile(filepath.Join(e.target, StampFile)); string(stamp) != mB.SHA256+"\n" {
		t.Errorf("stamp %q, want B's digest", stamp)
	}
	// Unchanged manifest: nothing to do.
	if res, n := e.fetchOnce(t, mB); !res.UpToDate || n != 3 {
		t.Errorf("second fetch of B: %+v, %d requests", res, n)
	}
	// Back to A: its archive is still in the cache and verifies.
	res, n = e.fetchOnce(t, mA)
	if res.UpToDate || res.Downloaded || n != 3 || rootfs() != "rootfs A" {
		t.Errorf("back to A: %+v, %d requests (want 3: from the cache), rootfs %q", res, n, rootfs())
	}
}

// TestFetchTakesAnUppercaseDigest: runtime-bundle.toml may spell the
// SHA-256 in capitals (as some tools print it); the fetch verifies, stamps
// the lowercase digest and is a no-op the second time.
func TestFetchTakesAnUppercaseDigest(t *testing.T) {
	e := newFetchEnv(t)
	e.archive = makeTarGz(t, entry{name: "./", typ: tar.TypeDir, mode: 0o755}, reg("vmlinux", elfKernel()), reg("rootfs.ext4", "rootfs"))
	m := &Manifest{URL: e.serve(t), SHA256: strings.ToUpper(sumOf(e.archive)), BundleMetadata: &Metadata{Kernel: "vmlinux", Rootfs: "rootfs.ext4"}}
	if res, n := e.fetchOnce(t, m); !res.Downloaded || n != 1 {
		t.Fatalf("first fetch: %+v, %d requests", res, n)
	}
	if stamp, _ := os.ReadFile(filepath.Join(e.target, StampFile)); string(stamp) != sumOf(e.archive)+"\n" {
		t.Errorf("stamp %q, want the lowercase digest", stamp)
	}
	if res, n := e.fetchOnce(t, m); !res.UpToDate || n != 1 {
		t.Errorf("second fetch: %+v, %d requests; want a no-op", res, n)
	}
}
