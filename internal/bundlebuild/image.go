package bundlebuild

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bangerdev/banger/internal/execx"
)

// RootfsLabel is the ext4 label of banger root filesystem images.
const RootfsLabel = "banger-root"

// treeSize estimates the bytes a tree needs on ext4: data rounded up to 4
// KiB blocks plus one inode (256 bytes) per entry.
func treeSize(root string) (int64, error) {
	var total int64
	err := filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		total += 256
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += (info.Size() + 4095) &^ 4095
		} else {
			total += 4096
		}
		return nil
	})
	return total, err
}

// imageSize is content plus ~30% headroom plus room for the journal and
// metadata, rounded up to a MiB.
func imageSize(content int64) int64 {
	const mib = 1 << 20
	size := content + content*3/10 + 96*mib
	return (size + mib - 1) / mib * mib
}

// makeExt4 writes a sparse ext4 image at path holding the tree dir, without
// mounting anything.
func makeExt4(ctx context.Context, dir, path, label string) (int64, error) {
	if !execx.Have("mkfs.ext4") {
		return 0, fmt.Errorf("make %s: mkfs.ext4 not found: install e2fsprogs", filepath.Base(path))
	}
	content, err := treeSize(dir)
	if err != nil {
		return 0, fmt.Errorf("measure root filesystem tree: %w", err)
	}
	size := imageSize(content)
	os.Remove(path)
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("make %s: %w", filepath.Base(path), err)
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("make %s: %w", filepath.Base(path), err)
	}
	args := []string{"mkfs.ext4", "-q", "-F", "-m", "0", "-L", label, "-d", dir, path}
	if err := execx.Check(ctx, args...); err != nil {
		os.Remove(path)
		return 0, fmt.Errorf("make %s: %w", filepath.Base(path), err)
	}
	return size, nil
}
