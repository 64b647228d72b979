package storage

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// newWorkDisk creates a 32M work disk with identity files staged.
func newWorkDisk(t *testing.T) (string, string) {
	t.Helper()
	requireTools(t, "mkfs.ext4", "debugfs", "dumpe2fs", "e2fsck", "resize2fs")
	dir := t.TempDir()
	stage := filepath.Join(dir, "stage")
	if err := os.Mkdir(stage, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := StageIdentity(stage, "ssh-ed25519 AAAAuser test", []byte("PRIVATE"), []byte("ssh-ed25519 AAAAhost")); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "work.ext4")
	if err := CreateStagedDisk(testCtx(t), img, 32<<20, stage); err != nil {
		t.Fatal(err)
	}
	return dir, img
}

func TestCreateWorkDiskStagesIdentity(t *testing.T) {
	_, img := newWorkDisk(t)
	ctx := testCtx(t)
	hdr := parseDumpe2fs(run(t, "dumpe2fs", "-h", img))
	if hdr["Filesystem volume name"] != WorkLabel {
		t.Errorf("label = %q, want %q", hdr["Filesystem volume name"], WorkLabel)
	}
	want := map[string]struct {
		data string
		mode os.FileMode
	}{
		"/.ssh/authorized_keys":             {"ssh-ed25519 AAAAuser test\n", 0o600},
		"/.banger/ssh_host_ed25519_key":     {"PRIVATE\n", 0o600},
		"/.banger/ssh_host_ed25519_key.pub": {"ssh-ed25519 AAAAhost\n", 0o644},
		"/.ssh":                             {"", 0o700},
		"/.banger":                          {"", 0o700},
	}
	for p, w := range want {
		if w.data != "" {
			// read back with plain debugfs, no mount
			if got := run(t, "debugfs", "-R", "cat "+p, img); got != w.data {
				t.Errorf("%s = %q, want %q", p, got, w.data)
			}
		}
		mode, err := Ext4Mode(ctx, img, p)
		if err != nil || mode != w.mode {
			t.Errorf("mode of %s = %v (%v), want %v", p, mode, err, w.mode)
		}
	}
	if st := run(t, "debugfs", "-R", "stat /.ssh/authorized_keys", img); !strings.Contains(st, "User:     0   Group:     0") {
		t.Errorf("authorized_keys not owned by root:\n%s", st)
	}
	size, alloc, err := (Host{}).ImageInfo(img)
	if err != nil || size != 32<<20 || alloc >= size {
		t.Errorf("ImageInfo = %d, %d, %v: want size 32M and sparse", size, alloc, err)
	}
}

func TestCreateWorkDiskFailureRemovesFile(t *testing.T) {
	requireTools(t, "mkfs.ext4")
	img := filepath.Join(t.TempDir(), "work.ext4")
	err := CreateStagedDisk(testCtx(t), img, 32<<20, filepath.Join(t.TempDir(), "missing-stage"))
	if err == nil {
		t.Fatal("want error for a missing stage directory")
	}
	if _, serr := os.Stat(img); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("half-made disk left behind: %v (create error: %v)", serr, err)
	}
	if err := CreateStagedDisk(testCtx(t), img, 0, ""); err == nil {
		t.Error("want error for size 0")
	}
}

func TestGrowWorkDisk(t *testing.T) {
	_, img := newWorkDisk(t)
	if err := (Host{}).GrowWorkDisk(testCtx(t), img, 64<<20); err != nil {
		t.Fatal(err)
	}
	hdr := parseDumpe2fs(run(t, "dumpe2fs", "-h", img))
	count, _ := strconv.ParseInt(hdr["Block count"], 10, 64)
	bs, _ := strconv.ParseInt(hdr["Block size"], 10, 64)
	if count*bs != 64<<20 {
		t.Errorf("filesystem is %d bytes after grow, want %d", count*bs, 64<<20)
	}
	run(t, "e2fsck", "-f", "-n", img) // fails the test unless clean
	if got := run(t, "debugfs", "-R", "cat /.ssh/authorized_keys", img); got != "ssh-ed25519 AAAAuser test\n" {
		t.Errorf("authorized_keys after grow = %q", got)
	}
	// Same size is a no-op.
	if err := (Host{}).GrowWorkDisk(testCtx(t), img, 64<<20); err != nil {
		t.Errorf("same size: %v", err)
	}
}

func TestShrinkRefused(t *testing.T) {
	_, img := newWorkDisk(t)
	before := fileHash(t, img)
	err := (Host{}).GrowWorkDisk(testCtx(t), img, 16<<20)
	var se *ShrinkError
	if !errors.As(err, &se) {
		t.Fatalf("want *ShrinkError, got %v", err)
	}
	se.Name = "calm-otter"
	if want := "work disk of calm-otter is 32M; shrinking to 16M is not supported: choose a size ≥ 32M"; se.Error() != want {
		t.Errorf("message = %q\nwant      %q", se.Error(), want)
	}
	if fileHash(t, img) != before {
		t.Error("image changed by a refused shrink")
	}
	if st, _ := os.Stat(img); st.Size() != 32<<20 {
		t.Errorf("size changed to %d", st.Size())
	}
	big := &ShrinkError{Name: "calm-otter", Current: 16 << 30, Requested: 8 << 30}
	if want := "work disk of calm-otter is 16G; shrinking to 8G is not supported: choose a size ≥ 16G"; big.Error() != want {
		t.Errorf("message = %q", big.Error())
	}
}

func TestGrowWorkDiskFailureKeepsSize(t *testing.T) {
	requireTools(t, "e2fsck", "resize2fs")
	// Not an ext4 image: the check fails before anything changes.
	img := filepath.Join(t.TempDir(), "junk.img")
	writeAt(t, img, 0, 0x5a, 1<<20)
	if err := (Host{}).GrowWorkDisk(testCtx(t), img, 2<<20); err == nil {
		t.Fatal("want error growing a non-ext4 file")
	}
	if st, _ := os.Stat(img); st.Size() != 1<<20 {
		t.Errorf("size = %d after failed grow, want original", st.Size())
	}
}

func TestWriteFileToExt4(t *testing.T) {
	_, img := newWorkDisk(t)
	ctx := testCtx(t)
	// Replace an existing file.
	if err := WriteFileToExt4(ctx, img, "/.ssh/authorized_keys", []byte("ssh-ed25519 NEW\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := run(t, "debugfs", "-R", "cat /.ssh/authorized_keys", img); got != "ssh-ed25519 NEW\n" {
		t.Errorf("content = %q", got)
	}
	// New file in new directories.
	if err := WriteFileToExt4(ctx, img, "/a/b/c.txt", []byte("hello"), 0o640); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{"/a": 0o700, "/a/b": 0o700, "/a/b/c.txt": 0o640} {
		if m, err := Ext4Mode(ctx, img, p); err != nil || m != want {
			t.Errorf("mode of %s = %v (%v), want %v", p, m, err, want)
		}
	}
	run(t, "e2fsck", "-f", "-n", img)
	for _, bad := range []string{"relative", "/with space", "/a/../b", "/q\"uote"} {
		if err := WriteFileToExt4(ctx, img, bad, nil, 0o600); err == nil {
			t.Errorf("path %q accepted", bad)
		}
	}
	if _, err := ReadFileFromExt4(ctx, img, "/missing"); err == nil {
		t.Error("reading a missing file succeeded")
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{16 << 30: "16G", 512 << 20: "512M", 3 << 29: "1.5G", 100: "100", 1 << 40: "1T"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestMakeReadOnly(t *testing.T) {
	p := filepath.Join(t.TempDir(), "base.ext4")
	writeAt(t, p, 0, 1, 10)
	if err := (Host{}).MakeReadOnly(p); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o444 {
		t.Errorf("mode = %v", st.Mode().Perm())
	}
}

func TestUpdateIdentity(t *testing.T) {
	_, img := newWorkDisk(t)
	ctx := testCtx(t)
	if err := (Host{}).UpdateIdentity(ctx, img, "ssh-ed25519 ROTATED", []byte("NEWPRIV"), []byte("ssh-ed25519 NEWHOST")); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{
		"/.ssh/authorized_keys":             "ssh-ed25519 ROTATED\n",
		"/.banger/ssh_host_ed25519_key":     "NEWPRIV\n",
		"/.banger/ssh_host_ed25519_key.pub": "ssh-ed25519 NEWHOST\n",
	} {
		if got := run(t, "debugfs", "-R", "cat "+p, img); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	if m, _ := Ext4Mode(ctx, img, "/.banger/ssh_host_ed25519_key"); m != 0o600 {
		t.Errorf("host key mode %v", m)
	}
	run(t, "e2fsck", "-f", "-n", img)
}
