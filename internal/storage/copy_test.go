package storage

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestCopyDisk copies a sparse disk (same bytes, still sparse), refuses an
// existing target without replace and replaces it with.
func TestCopyDisk(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "disk.img")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("head"), 0)
	f.WriteAt([]byte("tail"), 64<<20)
	f.Close()
	dst := filepath.Join(dir, "copy.img")
	method, err := (Host{}).CopyDisk(context.Background(), src, dst, false)
	if err != nil {
		t.Fatal(err)
	}
	if method != CopyReflink && method != CopySparse {
		t.Fatalf("method %q", method)
	}
	a, _ := os.ReadFile(src)
	b, _ := os.ReadFile(dst)
	if !bytes.Equal(a, b) {
		t.Fatal("copy differs from its source")
	}
	if _, alloc, _ := (Host{}).ImageInfo(dst); alloc > 1<<20 {
		t.Fatalf("copy of a sparse disk allocates %d bytes", alloc)
	}
	if _, err := (Host{}).CopyDisk(context.Background(), src, dst, false); err == nil {
		t.Fatal("copy over an existing file without replace succeeded")
	}
	os.WriteFile(src, []byte("new content"), 0o644)
	if _, err := (Host{}).CopyDisk(context.Background(), src, dst, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "new content" {
		t.Fatalf("replaced copy = %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Fatalf("leftovers: %v", entries)
	}
	t.Logf("copied by %s", method)
}
