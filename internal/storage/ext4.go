package storage

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/bangerdev/banger/internal/execx"
)

// safeGuestPath limits paths to what debugfs parses unambiguously.
var safeGuestPath = regexp.MustCompile(`^(/[A-Za-z0-9._@+-]+)+$`)

// WriteFileToExt4 writes data to guestPath (absolute, inside the filesystem)
// of the ext4 image without mounting it, replacing any existing file, owned
// by root with the given permission bits. Missing parent directories are
// created with mode 0700. The image must not be in use by a running VM. The
// result is read back and compared, because debugfs does not report failed
// commands in its exit status.
func WriteFileToExt4(ctx context.Context, image, guestPath string, data []byte, mode os.FileMode) error {
	if !safeGuestPath.MatchString(guestPath) || strings.Contains(guestPath, "/../") || strings.HasSuffix(guestPath, "/..") {
		return fmt.Errorf("write %s into %s: path must be absolute and use only letters, digits and ._@+-", guestPath, image)
	}
	if !execx.Have("debugfs") {
		return fmt.Errorf("write %s into %s: debugfs not found: %s", guestPath, image, e2fsHint)
	}
	tmp, err := os.CreateTemp("", "banger-ext4-write-*")
	if err != nil {
		return fmt.Errorf("write %s into %s: %w", guestPath, image, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s into %s: %w", guestPath, image, err)
	}

	dir, name := path.Split(guestPath)
	var script strings.Builder
	for _, d := range ancestors(dir) {
		if ok, err := isExt4Dir(ctx, image, d); err != nil {
			return fmt.Errorf("write %s into %s: %w", guestPath, image, err)
		} else if !ok {
			fmt.Fprintf(&script, "mkdir %s\nsif %s mode 040700\nsif %s uid 0\nsif %s gid 0\n", d, d, d, d)
		}
	}
	fmt.Fprintf(&script, "cd %s\nrm %s\nwrite %s %s\n", dir, name, tmp.Name(), name)
	fmt.Fprintf(&script, "sif %s mode 0%o\nsif %s uid 0\nsif %s gid 0\n", name, 0o100000|uint32(mode.Perm()), name, name)
	if _, err := execx.Run(ctx, execx.Cmd{Args: []string{"debugfs", "-w", "-f", "-", image}, Stdin: []byte(script.String())}); err != nil {
		return fmt.Errorf("write %s into %s: %w", guestPath, image, err)
	}

	got, err := ReadFileFromExt4(ctx, image, guestPath)
	if err != nil || !bytes.Equal(got, data) {
		return fmt.Errorf("write %s into %s: content did not land (is the image full or in use?): %v", guestPath, image, err)
	}
	gotMode, err := Ext4Mode(ctx, image, guestPath)
	if err != nil || gotMode != mode.Perm() {
		return fmt.Errorf("write %s into %s: mode is %v, want %v: %v", guestPath, image, gotMode, mode.Perm(), err)
	}
	return nil
}

// ReadFileFromExt4 returns the content of guestPath in the ext4 image,
// without mounting it.
func ReadFileFromExt4(ctx context.Context, image, guestPath string) ([]byte, error) {
	if !safeGuestPath.MatchString(guestPath) {
		return nil, fmt.Errorf("read %s from %s: unsupported path", guestPath, image)
	}
	// cat prints nothing for a missing file, so check it exists first.
	if _, err := Ext4Mode(ctx, image, guestPath); err != nil {
		return nil, err
	}
	out, err := execx.Output(ctx, "debugfs", "-R", "cat "+guestPath, image)
	if err != nil {
		return nil, fmt.Errorf("read %s from %s: %w", guestPath, image, err)
	}
	return out, nil
}

// Ext4Mode returns the permission bits of guestPath in the ext4 image.
func Ext4Mode(ctx context.Context, image, guestPath string) (os.FileMode, error) {
	st, err := ext4Stat(ctx, image, guestPath)
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`Mode:\s+([0-7]+)`).FindStringSubmatch(st)
	if m == nil {
		return 0, fmt.Errorf("stat %s in %s: no such file", guestPath, image)
	}
	v, err := strconv.ParseUint(m[1], 8, 32)
	if err != nil {
		return 0, fmt.Errorf("stat %s in %s: %w", guestPath, image, err)
	}
	return os.FileMode(v).Perm(), nil
}

// ext4Stat returns debugfs "stat" output; empty when the path is missing.
func ext4Stat(ctx context.Context, image, guestPath string) (string, error) {
	out, err := execx.Output(ctx, "debugfs", "-R", "stat "+guestPath, image)
	if err != nil {
		return "", fmt.Errorf("stat %s in %s: %w", guestPath, image, err)
	}
	return string(out), nil
}

func isExt4Dir(ctx context.Context, image, dir string) (bool, error) {
	st, err := ext4Stat(ctx, image, dir)
	return strings.Contains(st, "Type: directory"), err
}

// ancestors lists "/a", "/a/b" for "/a/b/" (the root itself is omitted).
func ancestors(dir string) []string {
	var out []string
	cur := ""
	for _, p := range strings.Split(strings.Trim(dir, "/"), "/") {
		if p == "" {
			continue
		}
		cur += "/" + p
		out = append(out, cur)
	}
	return out
}
