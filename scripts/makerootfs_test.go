package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMakeRootfsForReal rebuilds rootfs-docker.ext4 from a copy of the
// bundle's rootfs.ext4 (root, the Debian mirror, BANGER_TEST_RUNTIME): the
// image gets Docker socket-activated, a second run is a no-op (also with
// the base's file times changed), and a package-list change rebuilds only
// that image.
func TestMakeRootfsForReal(t *testing.T) {
	src := os.Getenv("BANGER_TEST_RUNTIME")
	if testing.Short() || src == "" || os.Geteuid() != 0 {
		t.Skip("needs root, the Debian mirror and BANGER_TEST_RUNTIME (a runtime bundle with rootfs.ext4)")
	}
	rt := t.TempDir()
	for _, f := range []string{"rootfs.ext4", "packages.apt"} {
		if out, err := exec.Command("cp", "--sparse=always", "--reflink=auto", filepath.Join(src, f), rt).CombinedOutput(); err != nil {
			t.Fatalf("copy %s: %v\n%s", f, err, out)
		}
	}
	other := writeFile(t, filepath.Join(rt, "firecracker"), "untouched")
	build := func() string {
		t.Helper()
		cmd := exec.Command("./make-rootfs.sh", "--runtime-dir", rt, "--packages", filepath.Join(rt, "packages.apt"))
		cmd.Env = append(os.Environ(), "BANGER_STATE_DIR="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make-rootfs.sh: %v\n%s", err, out)
		}
		return string(out)
	}
	has := func(image, path string) bool {
		out, _ := exec.Command("debugfs", "-R", "stat "+path, filepath.Join(rt, image)).CombinedOutput()
		return strings.Contains(string(out), "Inode:")
	}
	build()
	if !has("rootfs-docker.ext4", "/usr/sbin/dockerd") || has("rootfs.ext4", "/usr/sbin/dockerd") {
		t.Fatal("dockerd is not (only) in rootfs-docker.ext4")
	}
	if !has("rootfs-docker.ext4", "/etc/systemd/system/sockets.target.wants/docker.socket") ||
		has("rootfs-docker.ext4", "/etc/systemd/system/multi-user.target.wants/docker.service") {
		t.Fatal("docker is not socket-activated")
	}
	if has("rootfs-docker.ext4", "/usr/sbin/policy-rc.d") {
		t.Fatal("the chroot's policy-rc.d was left in the image")
	}
	if out := build(); !strings.Contains(out, "is up to date") {
		t.Fatalf("second run rebuilt:\n%s", out)
	}
	// New file times alone (a fetch, a copy) do not rebuild.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(rt, "rootfs.ext4"), later, later); err != nil {
		t.Fatal(err)
	}
	if out := build(); !strings.Contains(out, "is up to date") {
		t.Fatalf("a touched base rebuilt:\n%s", out)
	}
	f, err := os.OpenFile(filepath.Join(rt, "packages.apt"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString("jq\n")
		f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	if out := build(); !strings.Contains(out, "wrote") {
		t.Fatalf("a package-list change did not rebuild:\n%s", out)
	}
	if !has("rootfs-docker.ext4", "/usr/bin/jq") || has("rootfs.ext4", "/usr/bin/jq") {
		t.Fatal("jq is not (only) in the rebuilt image")
	}
	if b, _ := os.ReadFile(other); string(b) != "untouched" {
		t.Fatal("make-rootfs.sh changed another bundle file")
	}
}
