package storage

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestGrowOverlayQcow2AndRaw(t *testing.T) {
	ctx := context.Background()
	dir, base := qcow2Base(t)
	ov, err := (Host{}).CreateOverlay(ctx, KindQcow2, base, filepath.Join(dir, "ov.qcow2"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := GrowOverlay(ctx, ov, 64<<20); err != nil {
		t.Fatal(err)
	}
	if n, err := qcow2VirtualSize(ctx, ov.Path); err != nil || n != 64<<20 {
		t.Fatalf("qcow2 virtual size = %d, %v; want 64M", n, err)
	}
	// Asking for less never shrinks.
	if err := GrowOverlay(ctx, ov, 2<<20); err != nil {
		t.Fatal(err)
	}
	if n, _ := qcow2VirtualSize(ctx, ov.Path); n != 64<<20 {
		t.Fatalf("qcow2 shrank to %d", n)
	}

	raw, err := (Host{}).CreateOverlay(ctx, KindSparseCopy, base, filepath.Join(dir, "ov.raw"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := GrowOverlay(ctx, raw, 32<<20); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(raw.Path)
	if st.Size() != 32<<20 {
		t.Fatalf("raw overlay size = %d, want 32M", st.Size())
	}
	_, alloc, _ := (Host{}).ImageInfo(raw.Path)
	if alloc > 2<<20 {
		t.Fatalf("raw grow allocated %d bytes; it must stay sparse", alloc)
	}
}

// An overlay created with a size shows the guest that size at once: a
// qcow2 from its one qemu-img run, a raw copy as a hole; less than the base
// keeps the base's size.
func TestCreateOverlayAtSize(t *testing.T) {
	ctx := context.Background()
	dir, base := qcow2Base(t)
	ov, err := (Host{}).CreateOverlay(ctx, KindQcow2, base, filepath.Join(dir, "ov.qcow2"), 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := qcow2VirtualSize(ctx, ov.Path); err != nil || n != 64<<20 {
		t.Fatalf("qcow2 virtual size = %d, %v; want 64M", n, err)
	}
	small, err := (Host{}).CreateOverlay(ctx, KindQcow2, base, filepath.Join(dir, "small.qcow2"), 4096)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := qcow2VirtualSize(ctx, small.Path); n != 1<<20 {
		t.Fatalf("qcow2 asked smaller than its base has %d bytes, want the base's 1M", n)
	}
	raw, err := (Host{}).CreateOverlay(ctx, KindSparseCopy, base, filepath.Join(dir, "ov.raw"), 32<<20)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(raw.Path); st.Size() != 32<<20 {
		t.Fatalf("raw overlay size = %d, want 32M", st.Size())
	}
}

// qcow2Base skips without qemu-img and returns a temporary directory with
// a 1 MiB read-only raw base image in it.
func qcow2Base(t *testing.T) (dir, base string) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/qemu-img"); err != nil {
		t.Skip("qemu-img not installed (qemu-utils)")
	}
	dir = t.TempDir()
	base = filepath.Join(dir, "base.img")
	if err := os.WriteFile(base, make([]byte, 1<<20), 0o444); err != nil {
		t.Fatal(err)
	}
	return dir, base
}
