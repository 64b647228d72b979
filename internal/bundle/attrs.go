package bundle

import (
	"fmt"
	"os"
	"sort"
	"time"

	"golang.org/x/sys/unix"
)

// attrs are what unpacking restores of an entry besides its content: the
// permission bits and the modification time the archive records (Package
// writes them to the second). Restored times keep a fetched bundle's files
// dated as they were built, so tools that compare times (make, rsync) see
// the fetched files as the ones packaged, and packing a fetched bundle
// gives back the archive it came from.
type attrs struct {
	perm  os.FileMode
	mtime time.Time
}

// setMtime sets the modification time of the file at path, leaving its
// access time alone.
func setMtime(path string, mtime time.Time) error {
	if err := os.Chtimes(path, time.Time{}, mtime); err != nil {
		return fmt.Errorf("unpack runtime bundle: %w", err)
	}
	return nil
}

// setLinkMtime sets the modification time of the symlink at path itself.
func setLinkMtime(path string, mtime time.Time) error {
	ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, unix.NsecToTimespec(mtime.UnixNano())}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("unpack runtime bundle: set time of %s: %w", path, err)
	}
	return nil
}

// applyDirAttrs sets the directories' modes and times once everything is
// written, deepest first: a read-only directory does not block its own
// contents, and writing an entry does not move its directory's time after
// it was set.
func applyDirAttrs(dirs map[string]attrs) error {
	paths := make([]string, 0, len(dirs))
	for d := range dirs {
		paths = append(paths, d)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(paths)))
	for _, d := range paths {
		if err := os.Chmod(d, dirs[d].perm); err != nil {
			return fmt.Errorf("unpack runtime bundle: %w", err)
		}
		if err := setMtime(d, dirs[d].mtime); err != nil {
			return err
		}
	}
	return nil
}
