package bundle

import (
	"archive/tar"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// fetchEnv is a parent dir holding an existing "runtime" bundle, a cache
// dir and an http server serving one archive.
type fetchEnv struct {
	parent, target, cache string
	requests              atomic.Int32
	archive               []byte
	lie                   bool // claim more bytes than sent
}

func newFetchEnv(t *testing.T) *fetchEnv {
	t.Helper()
	e := &fetchEnv{parent: t.TempDir(), cache: t.TempDir()}
	e.target = filepath.Join(e.parent, "runtime")
	writeFile(t, filepath.Join(e.target, "vmlinux"), "old kernel")
	return e
}

func (e *fetchEnv) serve(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.requests.Add(1)
		body := e.archive
		if e.lie {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)+1000))
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/banger-runtime.tar.gz"
}

// fileURL writes data to a file and returns its file:// URL.
func fileURL(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bundle.tar.gz")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

// assertOldBundle checks that the old bundle is intact and nothing else
// was left next to it.
func (e *fetchEnv) assertOldBundle(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.target, "vmlinux"))
	if err != nil || string(b) != "old kernel" {
		t.Errorf("old bundle changed: %q, %v", b, err)
	}
	if names := dirNames(t, e.parent); !reflect.DeepEqual(names, []string{"runtime"}) {
		t.Errorf("leftovers next to the bundle: %q", names)
	}
}

func goodArchive(t *testing.T) []byte {
	return makeTarGz(t,
		entry{name: "./", typ: tar.TypeDir, mode: 0o755},
		reg("vmlinux", elfKernel()),
		reg("rootfs-docker.ext4", "rootfs"),
		entry{name: "bin/", typ: tar.TypeDir, mode: 0o755},
		entry{name: "bin/customize.sh", typ: tar.TypeReg, body: "#!/bin/sh\n", mode: 0o755},
		entry{name: "bin/run", typ: tar.TypeSymlink, linkname: "customize.sh"},
		entry{name: "bin/again", typ: tar.TypeLink, linkname: "bin/customize.sh"},
		entry{name: "ro/", typ: tar.TypeDir, mode: 0o555},
		reg("ro/file", "x"),
	)
}

func TestFetchHTTPGoodThenNoop(t *testing.T) {
	e := newFetchEnv(t)
	e.archive = goodArchive(t)
	m := &Manifest{URL: e.serve(t), SHA256: sumOf(e.archive), BundleMetadata: &Metadata{
		Kernel: "vmlinux", Rootfs: "rootfs-docker.ext4", Firecracker: "firecracker", Initrd: "initrd.img",
		Helpers: map[string]string{"customize": "bin/customize.sh", "nat": "nat.sh"},
	}}
	var last, total int64
	res, err := Fetch(context.Background(), FetchOptions{Manifest: m, TargetDir: e.target, CacheDir: e.cache,
		Progress: func(d, tot int64) { last, total = d, tot }})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Downloaded || res.UpToDate || res.MetadataSource != "manifest" {
		t.Errorf("result %+v", res)
	}
	if last != int64(len(e.archive)) || total != int64(len(e.archive)) {
		t.Errorf("progress ended at %d/%d, archive is %d bytes", last, total, len(e.archive))
	}
	tree := treeOf(t, e.target)
	if tree["vmlinux"] != elfKernel() || tree["bin/run"] != "-> customize.sh" || tree["bin/again"] != "#!/bin/sh\n" || tree["ro/file"] != "x" {
		t.Errorf("unpacked tree: %q", tree)
	}
	if st, _ := os.Stat(filepath.Join(e.target, "bin/customize.sh")); st.Mode().Perm() != 0o755 {
		t.Errorf("mode not kept: %v", st.Mode())
	}
	if st, _ := os.Stat(filepath.Join(e.target, "ro")); st.Mode().Perm() != 0o555 {
		t.Errorf("dir mode not kept: %v", st.Mode())
	}
	r, err := Resolve(e.target, Overrides{})
	if err != nil || r.Layout != LayoutJSON || len(r.Missing()) != 0 {
		t.Fatalf("resolve fetched bundle: %+v %v", r, err)
	}
	// Optional items from [bundle_metadata] that the archive lacks are dropped.
	if r.Firecracker != "" || r.Initrd != "" || len(r.Helpers) != 1 || r.Helpers["customize"] != filepath.Join(e.target, "bin/customize.sh") {
		t.Errorf("firecracker %q initrd %q helpers %q", r.Firecracker, r.Initrd, r.Helpers)
	}
	if names := dirNames(t, e.parent); !reflect.DeepEqual(names, []string{"runtime"}) {
		t.Errorf("leftovers: %q", names)
	}
	// Each fetch below unpacks ro/ read-only again: make it removable for
	// t.TempDir's cleanup, which as a normal user cannot delete inside it.
	t.Cleanup(func() { os.Chmod(filepath.Join(e.target, "ro"), 0o755) })

	res, err = Fetch(context.Background(), FetchOptions{Manifest: m, TargetDir: e.target, CacheDir: e.cache})
	if err != nil || !res.UpToDate || res.Downloaded {
		t.Errorf("second fetch: %+v, %v", res, err)
	}
	if n := e.requests.Load(); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}

	// Without the stamp the cached archive is reused, still no download.
	os.Remove(filepath.Join(e.target, StampFile))
	res, err = Fetch(context.Background(), FetchOptions{Manifest: m, TargetDir: e.target, CacheDir: e.cache})
	if err != nil || res.Downloaded || res.UpToDate || e.requests.Load() != 1 {
		t.Errorf("cached fetch: %+v, %v, requests %d", res, err, e.requests.Load())
	}
}

func TestFetchFailuresKeepOldBundle(t *testing.T) {
	good := goodArchive(t)
	cut := good[:len(good)/2]
	cases := []struct {
		name    string
		archive []byte
		sha     string // "" = sha of archive
		viaFile bool
		lie     bool
		url     string
		want    string
	}{
		{name: "wrong sha", archive: good, sha: strings.Repeat("0", 64), want: "checksum mismatch"},
		{name: "lying content-length", archive: good, lie: true, want: "truncated"},
		{name: "cut file", archive: cut, sha: sumOf(good), viaFile: true, want: "checksum mismatch"},
		{name: "dotdot", archive: makeTarGz(t, reg("ok", "1"), reg("a/../../evil", "x")), want: `contains ".."`},
		{name: "absolute", archive: makeTarGz(t, reg("/etc/evil", "x")), want: "absolute path"},
		{name: "symlink escape", archive: makeTarGz(t, entry{name: "sub/l", typ: tar.TypeSymlink, linkname: "../../x"}), want: "outside the bundle dir"},
		{name: "absolute symlink", archive: makeTarGz(t, entry{name: "l", typ: tar.TypeSymlink, linkname: "/etc"}), want: "outside the bundle dir"},
		{name: "write through symlink", archive: makeTarGz(t, entry{name: "d", typ: tar.TypeSymlink, linkname: "."}, reg("d/f", "x")), want: "goes through symlink"},
		{name: "hardlink escape", archive: makeTarGz(t, entry{name: "h", typ: tar.TypeLink, linkname: "../../etc/passwd"}), want: "outside the bundle dir"},
		{name: "device", archive: makeTarGz(t, entry{name: "dev", typ: tar.TypeChar}), want: "device"},
		{name: "placeholder url", archive: good, url: "https://example.invalid/banger-runtime-REPLACE.tar.gz", want: "placeholder"},
		{name: "placeholder sha", archive: good, sha: "REPLACE_WITH_SHA256", want: "not a sha-256"},
		{name: "corrupt mid-way", archive: cut, viaFile: true, want: "corrupt archive"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newFetchEnv(t)
			e.archive, e.lie = c.archive, c.lie
			m := &Manifest{SHA256: c.sha}
			if m.SHA256 == "" {
				m.SHA256 = sumOf(c.archive)
			}
			switch {
			case c.url != "":
				m.URL = c.url
			case c.viaFile:
				m.URL = fileURL(t, c.archive)
			default:
				m.URL = e.serve(t)
			}
			_, err := Fetch(context.Background(), FetchOptions{Manifest: m, TargetDir: e.target, CacheDir: e.cache})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Fetch error = %v, want %q", err, c.want)
			}
			t.Log(err)
			if msg := err.Error(); msg != strings.ToLower(msg[:1])+msg[1:] || strings.Contains(msg, "\n") {
				t.Errorf("error should be one lowercase line: %q", msg)
			}
			e.assertOldBundle(t)
			if names := dirNames(t, e.cache); len(names) != 0 {
				t.Errorf("cache holds %q after a failure", names)
			}
		})
	}
}

func TestFetchInterruptedUnpack(t *testing.T) {
	e := newFetchEnv(t)
	archive := makeTarGz(t, reg("a", "1"), reg("b", "2"), reg("c", "3"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	unpackHook = func(name string) {
		if name == "b" {
			cancel()
		}
	}
	t.Cleanup(func() { unpackHook = nil })
	m := &Manifest{URL: fileURL(t, archive), SHA256: sumOf(archive)}
	_, err := Fetch(ctx, FetchOptions{Manifest: m, TargetDir: e.target, CacheDir: e.cache})
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("Fetch error = %v, want interrupted", err)
	}
	e.assertOldBundle(t)
}

func TestFetchFileURLTopDirAndNewTarget(t *testing.T) {
	parent := t.TempDir()
	target := filepath.Join(parent, "lib", "banger")
	archive := makeTarGz(t,
		entry{name: "banger-runtime/", typ: tar.TypeDir},
		reg("banger-runtime/bundle.json", `{"kernel":"vmlinux","rootfs":"r.ext4"}`),
		reg("banger-runtime/vmlinux", elfKernel()),
		reg("banger-runtime/r.ext4", "r"),
	)
	m := &Manifest{URL: fileURL(t, archive), SHA256: sumOf(archive)}
	res, err := Fetch(context.Background(), FetchOptions{Manifest: m, TargetDir: target})
	if err != nil {
		t.Fatal(err)
	}
	if res.MetadataSource != "archive" || res.Downloaded {
		t.Errorf("result %+v", res)
	}
	if got := dirNames(t, target); !reflect.DeepEqual(got, []string{StampFile, "bundle.json", "r.ext4", "vmlinux"}) {
		t.Errorf("target holds %q", got)
	}
	if got := dirNames(t, filepath.Join(parent, "lib")); !reflect.DeepEqual(got, []string{"banger"}) {
		t.Errorf("leftovers: %q", got)
	}
}

func TestFetchManifestPathAndBadScheme(t *testing.T) {
	p := filepath.Join(t.TempDir(), ManifestFile)
	writeFile(t, p, "url = \"ftp://h/x.tar.gz\"\nsha256 = \""+strings.Repeat("a", 64)+"\"\n")
	_, err := Fetch(context.Background(), FetchOptions{ManifestPath: p, TargetDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "unsupported scheme") {
		t.Errorf("ftp url: %v", err)
	}
}

func TestFetchCancelledDownload(t *testing.T) {
	e := newFetchEnv(t)
	e.archive = goodArchive(t)
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(e.archive)))
		w.Write(e.archive[:100])
		w.(http.Flusher).Flush()
		select { // hang until the client gives up
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(func() { close(stop); srv.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := &Manifest{URL: srv.URL + "/b.tar.gz", SHA256: sumOf(e.archive)}
	_, err := Fetch(ctx, FetchOptions{Manifest: m, TargetDir: e.target, CacheDir: e.cache,
		Progress: func(done, _ int64) {
			if done >= 100 {
				cancel()
			}
		}})
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("Fetch error = %v, want interrupted", err)
	}
	e.assertOldBundle(t)
	if names := dirNames(t, e.cache); len(names) != 0 {
		t.Errorf("cache holds %q after an interrupted download", names)
	}
}
