package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// createReflink clones base into dst with the FICLONE ioctl: no data is read
// or copied, the two files share extents until one of them is written.
func createReflink(base, dst string) (err error) {
	src, err := os.Open(base)
	if err != nil {
		return fmt.Errorf("reflink overlay: %w", err)
	}
	defer src.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("reflink overlay: %w", err)
	}
	defer func() {
		if cerr := out.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("reflink overlay: %w", cerr)
		}
		if err != nil {
			os.Remove(dst)
		}
	}()
	if err := unix.IoctlFileClone(int(out.Fd()), int(src.Fd())); err != nil {
		return fmt.Errorf("reflink overlay: clone %s to %s: %w: keep images and VM disks on one btrfs or xfs (reflink=1) filesystem, or use sparse-copy", base, dst, err)
	}
	return nil
}

// reflinkProbe tries a clone between two small files in dir.
func reflinkProbe(dir string) error {
	if dir == "" {
		return errors.New("no directory to probe")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("probe %s: %v", dir, err)
	}
	src, err := os.CreateTemp(dir, ".banger-reflink-probe-*")
	if err != nil {
		return fmt.Errorf("probe %s: %v", dir, err)
	}
	defer os.Remove(src.Name())
	defer src.Close()
	if _, err := src.Write(make([]byte, 4096)); err != nil {
		return fmt.Errorf("probe %s: %v", dir, err)
	}
	dstPath := filepath.Join(dir, filepath.Base(src.Name())+".clone")
	dst, err := os.OpenFile(dstPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("probe %s: %v", dir, err)
	}
	defer os.Remove(dstPath)
	defer dst.Close()
	if err := unix.IoctlFileClone(int(dst.Fd()), int(src.Fd())); err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EXDEV) {
			return fmt.Errorf("filesystem of %s does not support reflink (btrfs, xfs with reflink=1 do)", dir)
		}
		return fmt.Errorf("probe %s: %v", dir, err)
	}
	return nil
}
