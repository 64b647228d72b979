package system

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// CheckRootOwned refuses path unless root alone could have put it there:
// it must be a regular file owned by root and writable by no one else, in
// directories owned by root that no one else may write (a root-owned
// sticky directory such as /tmp is allowed: others cannot rename or
// replace root's entries in it). Install copies the network helper and
// grants it capabilities, so a file another account could swap in the
// meantime must never be the source.
func CheckRootOwned(path, what string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, path, err)
	}
	for _, p := range []string{abs, real} {
		if err := checkChain(p, what); err != nil {
			return err
		}
	}
	return nil
}

// checkChain checks p (not following a final symlink) and every directory
// above it.
func checkChain(p, what string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, p, err)
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		if err := checkEntry(p, fi, false, what); err != nil {
			return err
		}
	}
	for dir := filepath.Dir(p); ; dir = filepath.Dir(dir) {
		di, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		if err := checkEntry(dir, di, true, what); err != nil {
			return err
		}
		if dir == "/" {
			return nil
		}
	}
}

func checkEntry(p string, fi os.FileInfo, isDir bool, what string) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: cannot read its owner", p)
	}
	writable := fi.Mode().Perm()&0o022 != 0
	if isDir && fi.Mode()&os.ModeSticky != 0 {
		writable = false
	}
	if st.Uid != 0 || writable {
		return fmt.Errorf("refused: %s is owned by uid %d with mode %04o; the %s must be root's alone (root-owned, in root-owned directories no other account may write) so no one can swap it before root installs it: install banger as root first ('sudo make install PREFIX=/usr/local') and run that copy, or use 'sudo make setup'", p, st.Uid, fi.Mode().Perm(), what)
	}
	return nil
}
