package paths

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// EnsureDir creates path (and missing parents) with mode, or, when it already
// exists, removes any permission bits beyond mode. It refuses a path that is
// not a directory or is a symlink.
func EnsureDir(path string, mode fs.FileMode) error {
	mode = mode.Perm()
	if err := os.MkdirAll(path, mode); err != nil {
		return fmt.Errorf("create directory %s: %w", path, err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("check directory %s: %w", path, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symlink, not a directory: remove it and retry", path)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s exists but is not a directory: move it away and retry", path)
	}
	if extra := fi.Mode().Perm() &^ mode; extra != 0 {
		if err := os.Chmod(path, fi.Mode().Perm()&mode); err != nil {
			return fmt.Errorf("tighten permissions of %s to %v: %w", path, mode, err)
		}
	}
	return nil
}

// EnsurePrivateDir creates path as a 0700 directory owned by the current
// user, tightening an existing one; it refuses a directory owned by anyone
// else (someone could otherwise plant a fake daemon socket in it).
func EnsurePrivateDir(path string) error {
	uid := os.Geteuid()
	if err := checkPrivateDir(path, uid); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := EnsureDir(path, 0o700); err != nil {
		return err
	}
	return checkPrivateDir(path, uid)
}

// checkPrivateDir verifies that path is a real directory owned by uid. It
// returns an error wrapping os.ErrNotExist when path does not exist.
func checkPrivateDir(path string, uid int) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 || !fi.IsDir() {
		return fmt.Errorf("%s is not a directory (or is a symlink): remove it so banger can create its private directory", path)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("cannot read the owner of %s", path)
	}
	if int(st.Uid) != uid {
		return fmt.Errorf("%s is owned by uid %d, not by you (uid %d): refusing to use it for the daemon socket; remove it or set XDG_RUNTIME_DIR", path, st.Uid, uid)
	}
	return nil
}
