package storage

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/execx"
)

// haveBtrfs reports whether the running kernel knows btrfs.
func haveBtrfs() bool {
	data, err := os.ReadFile("/proc/filesystems")
	return err == nil && strings.Contains(string(data), "btrfs")
}

// btrfsDir mounts a small loop-backed btrfs for the test and returns its
// mount point; the mount, loop device and image are removed on cleanup even
// when the test fails.
func btrfsDir(t *testing.T) string {
	t.Helper()
	requireRoot(t)
	requireTools(t, "mkfs.btrfs", "btrfs", "losetup", "mount", "umount")
	if !haveBtrfs() {
		// Load the module rather than skip, where the kernel has it.
		out, err := execx.Output(testCtx(t), "modprobe", "btrfs")
		if !haveBtrfs() {
			t.Skipf("kernel has no btrfs and 'modprobe btrfs' did not load it: %v %s", err, out)
		}
	}
	dir := t.TempDir()
	img := filepath.Join(dir, "bgt-btrfs.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 128<<20); err != nil {
		t.Fatal(err)
	}
	cleanupCtx := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		t.Cleanup(cancel)
		return ctx
	}
	out, err := execx.Output(testCtx(t), "losetup", "--find", "--show", img)
	if err != nil {
		t.Fatal(err)
	}
	loop := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if err := execx.Check(cleanupCtx(), "losetup", "--detach", loop); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if err := execx.Check(testCtx(t), "mkfs.btrfs", "-q", "-f", loop); err != nil {
		t.Fatal(err)
	}
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := execx.Check(testCtx(t), "mount", "-t", "btrfs", loop, mnt); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // runs before the detach above (LIFO)
		if err := execx.Check(cleanupCtx(), "umount", mnt); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return mnt
}

func TestReflinkOverlay(t *testing.T) {
	mnt := btrfsDir(t)
	r := (Host{}).Probe("firecracker", mnt)
	var refl Availability
	for _, a := range r.All {
		if a.Kind == KindReflink {
			refl = a
		}
	}
	if !refl.OK {
		t.Fatalf("reflink not detected on btrfs: %s", refl.Reason)
	}
	if !probeDM().OK && r.Chosen != KindReflink {
		t.Errorf("chose %s on btrfs without device-mapper", r.Chosen)
	}
	base := filepath.Join(mnt, "base.ext4")
	makeBase(t, base, 32<<20)
	writeAt(t, base, 1<<20, 0x33, 8<<20) // 8M of real data
	if err := (Host{}).MakeReadOnly(base); err != nil {
		t.Fatal(err)
	}
	before := fileHash(t, base)
	dst := filepath.Join(mnt, "root.img")
	ov, err := (Host{}).CreateOverlay(testCtx(t), KindReflink, base, dst, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fileHash(t, dst) != before {
		t.Fatal("clone differs from base")
	}
	// The clone shares every extent with the base: nothing exclusive.
	out := run(t, "btrfs", "filesystem", "du", "--raw", "-s", dst)
	if f := strings.Fields(strings.Split(strings.TrimSpace(out), "\n")[1]); f[1] != "0" {
		t.Errorf("clone has %s exclusive bytes, want 0:\n%s", f[1], out)
	}
	writeAt(t, dst, 0, 0xab, 4096)
	if fileHash(t, base) != before {
		t.Error("writing the clone changed the base")
	}
	if err := (Host{}).RemoveOverlay(testCtx(t), ov); err != nil {
		t.Fatal(err)
	}
	// Cloning across filesystems fails with a hint and leaves nothing.
	other := filepath.Join(t.TempDir(), "root.img")
	if _, err := (Host{}).CreateOverlay(testCtx(t), KindReflink, base, other, 0); err == nil || !strings.Contains(err.Error(), "sparse-copy") {
		t.Errorf("cross-filesystem clone: %v", err)
	}
	if _, err := os.Stat(other); err == nil {
		t.Error("failed clone left a file behind")
	}
}
