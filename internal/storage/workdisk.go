package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bangerdev/banger/internal/execx"
)

// WorkLabel is the ext4 label of a work disk; the guest mounts it at /root.
const WorkLabel = "banger-work"

const e2fsHint = "install e2fsprogs (Debian, Fedora)"

// CreateStagedDisk creates a sparse ext4 work disk of size bytes at path,
// filled from the stage directory (may be empty for an empty disk) without
// mounting it. The caller fills stage first (see StageIdentity). path must
// not exist; on failure it is removed.
func CreateStagedDisk(ctx context.Context, path string, size int64, stage string) (err error) {
	if size <= 0 {
		return fmt.Errorf("create work disk %s: size %d is not positive", path, size)
	}
	if !execx.Have("mkfs.ext4") {
		return fmt.Errorf("create work disk %s: mkfs.ext4 not found: %s", path, e2fsHint)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create work disk: %w", err)
	}
	defer func() {
		if err != nil {
			os.Remove(path)
		}
	}()
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("create work disk %s: %w", path, err)
	}
	args := []string{"mkfs.ext4", "-q", "-F", "-L", WorkLabel, "-E", "root_owner=0:0"}
	if stage != "" {
		args = append(args, "-d", stage)
	}
	args = append(args, path)
	if err := execx.Check(ctx, args...); err != nil {
		return fmt.Errorf("create work disk %s: %w", path, err)
	}
	if stage != "" {
		if err := rootOwnStaged(ctx, path, stage); err != nil {
			return fmt.Errorf("create work disk %s: %w", path, err)
		}
	}
	return nil
}

// rootOwnStaged makes every file mkfs.ext4 -d copied from stage owned by
// root in the image: mkfs copies the owner of the staged files, which is
// the daemon's user when bangerd does not run as root, and the guest's sshd
// ignores an authorized_keys file root does not own.
func rootOwnStaged(ctx context.Context, image, stage string) error {
	var script strings.Builder
	err := filepath.WalkDir(stage, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == stage {
			return err
		}
		rel, _ := filepath.Rel(stage, p)
		guest := "/" + filepath.ToSlash(rel)
		if !safeGuestPath.MatchString(guest) {
			return fmt.Errorf("staged file %s: name must use only letters, digits and ._@+-", guest)
		}
		fmt.Fprintf(&script, "sif %s uid 0\nsif %s gid 0\n", guest, guest)
		return nil
	})
	if err != nil || script.Len() == 0 {
		return err
	}
	if _, err := execx.Run(ctx, execx.Cmd{Args: []string{"debugfs", "-w", "-f", "-", image}, Stdin: []byte(script.String())}); err != nil {
		return fmt.Errorf("make staged files owned by root: %w", err)
	}
	return nil
}

// ShrinkError is returned by GrowWorkDisk when the new size is smaller than
// the current one. The daemon sets Name to the VM name for the message.
type ShrinkError struct {
	// Name is the VM name; when empty the message names the disk path.
	Name string
	// Path is the work disk file.
	Path string
	// Current and Requested are sizes in bytes.
	Current, Requested int64
}

// Error says the size and what to do.
func (e *ShrinkError) Error() string {
	who := e.Name
	if who == "" {
		who = e.Path
	}
	return fmt.Sprintf("work disk of %s is %s; shrinking to %s is not supported: choose a size ≥ %s",
		who, FormatSize(e.Current), FormatSize(e.Requested), FormatSize(e.Current))
}

// GrowWorkDisk grows the ext4 work disk at path to newSize bytes without
// mounting it: e2fsck, truncate, resize2fs. The disk must not be in use.
// Shrinking returns a *ShrinkError and leaves the disk untouched; the same
// size is a no-op. When resizing fails the original size is restored if the
// filesystem was not grown.
func (Host) GrowWorkDisk(ctx context.Context, path string, newSize int64) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("grow work disk: %w", err)
	}
	cur := st.Size()
	switch {
	case newSize < cur:
		return &ShrinkError{Path: path, Current: cur, Requested: newSize}
	case newSize == cur:
		return nil
	}
	for _, prog := range []string{"e2fsck", "resize2fs", "dumpe2fs"} {
		if !execx.Have(prog) {
			return fmt.Errorf("grow work disk %s: %s not found: %s", path, prog, e2fsHint)
		}
	}
	if err := fsck(ctx, path); err != nil {
		return fmt.Errorf("grow work disk %s: %w", path, err)
	}
	if err := os.Truncate(path, newSize); err != nil {
		return fmt.Errorf("grow work disk %s: %w", path, err)
	}
	if err := execx.Check(ctx, "resize2fs", path); err != nil {
		if fsBytes, ierr := fsSize(context.Background(), path); ierr == nil && fsBytes <= cur {
			if terr := os.Truncate(path, cur); terr == nil {
				return fmt.Errorf("grow work disk %s: %w (size restored to %s)", path, err, FormatSize(cur))
			}
		}
		return fmt.Errorf("grow work disk %s: %w: check it with e2fsck -f %s", path, err, path)
	}
	return nil
}

// fsck runs a forced automatic repair; exit codes 1 and 2 mean errors were
// corrected, which is fine.
func fsck(ctx context.Context, path string) error {
	err := execx.Check(ctx, "e2fsck", "-f", "-p", path)
	var ee *execx.Error
	if errors.As(err, &ee) && (ee.ExitCode == 1 || ee.ExitCode == 2) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("filesystem check failed: %w: repair it with e2fsck -f %s", err, path)
	}
	return nil
}

// fsSize is the size of the ext4 filesystem in path, from its superblock.
func fsSize(ctx context.Context, path string) (int64, error) {
	out, err := execx.Output(ctx, "dumpe2fs", "-h", path)
	if err != nil {
		return 0, err
	}
	hdr := parseDumpe2fs(string(out))
	count, err1 := strconv.ParseInt(hdr["Block count"], 10, 64)
	bs, err2 := strconv.ParseInt(hdr["Block size"], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("read superblock of %s: %w", path, err)
	}
	return count * bs, nil
}

// parseDumpe2fs turns "Key:   value" lines of dumpe2fs -h into a map.
func parseDumpe2fs(out string) map[string]string {
	m := make(map[string]string)
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m
}

// FormatSize renders bytes the way users write sizes: "16G", "512M",
// "1.5G"; exact multiples have no decimals.
func FormatSize(n int64) string {
	units := []struct {
		suffix string
		size   int64
	}{{"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}}
	for _, u := range units {
		if n >= u.size {
			if n%u.size == 0 {
				return strconv.FormatInt(n/u.size, 10) + u.suffix
			}
			return strconv.FormatFloat(float64(n)/float64(u.size), 'f', 1, 64) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}
