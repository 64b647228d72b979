package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// tamperCase is one damaged or hostile archive and the error Fetch must
// refuse it with.
type tamperCase struct {
	name string
	// archive builds the bytes; root is the sandbox dir, for entries that
	// aim at absolute paths inside it (so an escape would be seen).
	archive func(t *testing.T, root string) []byte
	// pinGood writes the good archive's sha256 in the manifest (the file
	// was damaged after publishing); otherwise the manifest pins the
	// archive's own sum (the publisher shipped it like this).
	pinGood bool
	want    string
}

// tamperCases are the reliability suite's tampered runtime bundles.
func tamperCases() []tamperCase {
	good := func(t *testing.T) []byte { return goodArchive(t) }
	return []tamperCase{
		{name: "truncated", archive: func(t *testing.T, _ string) []byte { g := good(t); return g[:len(g)/2] },
			want: "corrupt archive"},
		{name: "truncated, manifest pins the full archive", archive: func(t *testing.T, _ string) []byte { g := good(t); return g[:len(g)/2] },
			pinGood: true, want: "checksum mismatch"},
		{name: "flipped byte", archive: func(t *testing.T, _ string) []byte { return flip(good(t)) },
			pinGood: true, want: "checksum mismatch"},
		{name: "flipped byte, manifest pins the flipped archive", archive: func(t *testing.T, _ string) []byte { return flip(good(t)) },
			want: "corrupt archive"},
		{name: "dotdot entry", archive: func(t *testing.T, _ string) []byte { return makeTarGz(t, reg("ok", "1"), reg("../x", "escaped")) },
			want: `contains ".."`},
		{name: "dotdot inside a path", archive: func(t *testing.T, _ string) []byte { return makeTarGz(t, reg("a/../../x", "escaped")) },
			want: `contains ".."`},
		{name: "absolute path", archive: func(t *testing.T, root string) []byte {
			return makeTarGz(t, reg(filepath.Join(root, "abs"), "escaped"))
		},
			want: "absolute path"},
		{name: "symlink escaping", archive: func(t *testing.T, _ string) []byte {
			return makeTarGz(t, entry{name: "sub/", typ: tar.TypeDir}, entry{name: "sub/l", typ: tar.TypeSymlink, linkname: "../../x"})
		}, want: "outside the bundle dir"},
		{name: "absolute symlink", archive: func(t *testing.T, root string) []byte {
			return makeTarGz(t, entry{name: "l", typ: tar.TypeSymlink, linkname: root})
		}, want: "outside the bundle dir"},
		{name: "write through an inside symlink", archive: func(t *testing.T, _ string) []byte {
			return makeTarGz(t, entry{name: "d", typ: tar.TypeSymlink, linkname: "."}, reg("d/f", "x"))
		}, want: "goes through symlink"},
		{name: "hardlink escaping", archive: func(t *testing.T, _ string) []byte {
			return makeTarGz(t, entry{name: "h", typ: tar.TypeLink, linkname: "../archive.tar.gz"})
		}, want: "outside the bundle dir"},
		{name: "absolute hardlink", archive: func(t *testing.T, root string) []byte {
			return makeTarGz(t, entry{name: "h", typ: tar.TypeLink, linkname: filepath.Join(root, "archive.tar.gz")})
		}, want: "outside the bundle dir"},
		{name: "oversized entry", archive: func(t *testing.T, _ string) []byte { return headerOnly(t, "rootfs.ext4", maxEntrySize+1) },
			want: "limit for one file"},
		{name: "duplicate entry", archive: func(t *testing.T, _ string) []byte {
			return makeTarGz(t, reg("vmlinux", "good"), reg("vmlinux", "evil"))
		},
			want: "appears twice"},
		{name: "duplicate entry spelled differently", archive: func(t *testing.T, _ string) []byte {
			return makeTarGz(t, reg("bin/x", "good"), reg("./bin//x", "evil"))
		}, want: "appears twice"},
		{name: "trailing data after the tar", archive: func(t *testing.T, _ string) []byte { return trailing(t, maxTrailer+512) },
			want: "after the end of the tar archive"},
	}
}

// flip returns a copy of b with one byte in the middle inverted.
func flip(b []byte) []byte {
	c := bytes.Clone(b)
	c[len(c)/2] ^= 0xff
	return c
}

// headerOnly is a .tar.gz whose only entry claims size bytes and carries
// none of them: an oversized entry is refused from its header alone.
func headerOnly(t *testing.T, name string, size int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: size}); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// trailing is a valid one-file tar followed by n zero bytes in the same
// gzip stream.
func trailing(t *testing.T, n int) []byte {
	t.Helper()
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	_ = tw.WriteHeader(&tar.Header{Name: "f", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1})
	_, _ = tw.Write([]byte("x"))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	tarBuf.Write(make([]byte, n))
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(tarBuf.Bytes())
	_ = zw.Close()
	return buf.Bytes()
}

// TestTamperedBundleRefused is reliability check 8: every damaged or
// hostile archive is refused with a one-line error naming the problem, and
// nothing changes on disk: an existing bundle stays as it was, a new target
// is not created, and no file appears anywhere in the sandbox (escaping
// entries aim inside it, so a write would be seen).
func TestTamperedBundleRefused(t *testing.T) {
	for _, c := range tamperCases() {
		for _, existing := range []bool{true, false} {
			mode := "new target"
			if existing {
				mode = "replacing a bundle"
			}
			t.Run(c.name+"/"+mode, func(t *testing.T) {
				root := t.TempDir()
				parent := filepath.Join(root, "lib")
				target := filepath.Join(parent, "banger")
				cache := filepath.Join(root, "cache")
				if err := os.MkdirAll(cache, 0o755); err != nil {
					t.Fatal(err)
				}
				if existing {
					writeFile(t, filepath.Join(target, "vmlinux"), "old kernel")
				} else if err := os.MkdirAll(parent, 0o755); err != nil {
					t.Fatal(err)
				}
				data := c.archive(t, root)
				archive := filepath.Join(root, "archive.tar.gz")
				if err := os.WriteFile(archive, data, 0o644); err != nil {
					t.Fatal(err)
				}
				sum := sumOf(data)
				if c.pinGood {
					sum = sumOf(goodArchive(t))
				}
				before := treeOf(t, root)
				m := &Manifest{URL: (&url.URL{Scheme: "file", Path: archive}).String(), SHA256: sum}
				_, err := Fetch(context.Background(), FetchOptions{Manifest: m, TargetDir: target, CacheDir: cache})
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("Fetch error = %v, want one containing %q", err, c.want)
				}
				if msg := err.Error(); strings.Contains(msg, "\n") || msg[:1] != strings.ToLower(msg[:1]) {
					t.Errorf("error should be one lowercase line: %q", msg)
				}
				if after := treeOf(t, root); !reflect.DeepEqual(after, before) {
					t.Errorf("the sandbox changed:\nbefore %q\nafter  %q", before, after)
				}
			})
		}
	}
}

// TestTotalSizeCap checks that many files within the per-file cap are
// still refused once their sum passes the total cap.
func TestTotalSizeCap(t *testing.T) {
	old := maxTotalSize
	maxTotalSize = 10
	t.Cleanup(func() { maxTotalSize = old })
	e := newFetchEnv(t)
	data := makeTarGz(t, reg("a", "123456"), reg("b", "123456"))
	m := &Manifest{URL: fileURL(t, data), SHA256: sumOf(data)}
	_, err := Fetch(context.Background(), FetchOptions{Manifest: m, TargetDir: e.target, CacheDir: e.cache})
	if err == nil || !strings.Contains(err.Error(), `entry "b" takes the unpacked size past the 10-byte limit`) {
		t.Fatalf("Fetch error = %v, want the total cap", err)
	}
	e.assertOldBundle(t)
}
