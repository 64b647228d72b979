package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReliabilityTinyStateFilesystem (check 6): with the state directory
// on a loop-mounted 64 MiB ext4 that is nearly full, a create fails with a
// "no space" error naming the path, leaves no row, directory or tap, the
// database passes PRAGMA integrity_check, and an existing VM still
// starts once space is back. Uses fakebangerd, whose disks are real files
// on that filesystem (a booting guest would only add qemu's pause on
// ENOSPC). Needs root for the mount; quick (CI when root).
func TestReliabilityTinyStateFilesystem(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to loop-mount a filesystem")
	}
	var home string
	// Registered before the env so that it runs after the env's cleanup
	// (daemon stopped), then removes what RemoveAll could not.
	t.Cleanup(func() {
		if home != "" {
			_ = exec.Command("umount", "-l", filepath.Join(home, "state")).Run()
			_ = os.RemoveAll(home)
		}
	})
	e := newFakeEnv(t)
	home = e.Home
	img := filepath.Join(t.TempDir(), "state.img")
	mnt := filepath.Join(e.Home, "state")
	for _, c := range [][]string{
		{"truncate", "-s", "64M", img},
		{"mkfs.ext4", "-q", "-F", "-m", "0", img},
		{"mkdir", "-p", mnt},
		{"mount", "-o", "loop", img, mnt},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Skipf("%s: %v %s", strings.Join(c, " "), err, out)
		}
	}
	e.MustRun("vm", "create", "--name", "keep", "--no-wait", "--disk-size", "1G")
	e.MustRun("vm", "stop", "keep")

	filler := filepath.Join(mnt, "filler")
	// Fill it to the last block (no reserved blocks: -m 0 above).
	for _, bs := range []string{"1M", "4k"} {
		_ = exec.Command("dd", "if=/dev/zero", "of="+filler+bs, "bs="+bs).Run()
		_ = exec.Command("sync", "-f", filler+bs).Run()
	}
	// ext4 keeps a few clusters for its own metadata; ours are gone.
	if err := os.WriteFile(filepath.Join(mnt, "probe"), make([]byte, 64<<10), 0o600); err == nil {
		t.Fatalf("could not fill %s", mnt)
	}
	_ = os.Remove(filepath.Join(mnt, "probe"))
	r := e.Run("vm", "create", "--name", "big", "--no-wait", "--disk-size", "1G")
	msg := strings.ToLower(r.Stderr)
	if r.Code == 0 || !strings.Contains(msg, "no space") || !strings.Contains(r.Stderr, mnt) {
		t.Errorf("create on a full state dir: exit %d, stderr %q; want a \"no space\" error naming a path under %s", r.Code, r.Stderr, mnt)
	}
	if _, err := os.Stat(filepath.Join(mnt, "banger", "vms", "big")); !os.IsNotExist(err) {
		t.Errorf("failed create left its VM dir: %v", err)
	}
	for _, v := range e.listVMs() {
		if v.Name == "big" {
			t.Errorf("failed create left a VM in vm list: %+v", v)
		}
	}
	res := integrityCheck(t, e.dbPath())
	figure(t, "full_disk_integrity_check", res, "")
	if res != "ok" {
		t.Errorf("integrity_check: %s", res)
	}
	for _, bs := range []string{"1M", "4k"} {
		if err := os.Remove(filler + bs); err != nil {
			t.Fatal(err)
		}
	}
	if r := e.Run("vm", "start", "keep", "--no-wait"); r.Code != 0 {
		t.Errorf("existing VM does not start after the full disk: %s", r.Stderr)
	}
}
