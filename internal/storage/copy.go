package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Ways CopyDisk copies a file.
const (
	// CopyReflink shares the source's blocks (btrfs, xfs with reflink=1)
	// until either file is written: instant, and no space at first.
	CopyReflink = "reflink"
	// CopySparse reads the source's data regions and writes the non-zero
	// blocks, leaving holes as holes.
	CopySparse = "sparse-copy"
)

// CopyDisk copies the disk image src to dst, by reflink where the
// filesystem allows and as a sparse copy otherwise, and says which it used.
// With replace, dst may exist and is replaced atomically (the copy is made
// next to it and renamed over it); without, dst must not exist. On failure
// no partial copy is left.
func (Host) CopyDisk(ctx context.Context, src, dst string, replace bool) (string, error) {
	target := dst
	if replace {
		target = filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".copy")
		if err := os.Remove(target); err != nil && !os.IsNotExist(err) {
			return "", fmt.Errorf("copy %s: %w", src, err)
		}
	}
	method := CopyReflink
	if err := createReflink(src, target); err != nil {
		method = CopySparse
		if err := sparseCopy(ctx, src, target); err != nil {
			return "", fmt.Errorf("copy %s to %s: %w", src, dst, err)
		}
	}
	if replace {
		if err := os.Rename(target, dst); err != nil {
			os.Remove(target)
			return "", fmt.Errorf("copy %s to %s: %w", src, dst, err)
		}
	}
	return method, nil
}
