package bundlebuild

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/execx"
	"github.com/bangerdev/banger/internal/testenv"
)

// runtimeDir returns the bundle to boot: $BANGER_TEST_RUNTIME, else the
// repository's ./runtime; the test skips when neither holds a rootfs.
func runtimeDir(t *testing.T) string {
	t.Helper()
	testenv.SkipShort(t, "boots the built bundle's kernels")
	dir := os.Getenv("BANGER_TEST_RUNTIME")
	if dir == "" {
		abs, err := filepath.Abs("../../runtime")
		if err != nil {
			t.Fatal(err)
		}
		dir = abs
	}
	if _, err := os.Stat(filepath.Join(dir, RootfsName)); err != nil {
		t.Skipf("no built bundle (set BANGER_TEST_RUNTIME or build ./runtime): %v", err)
	}
	for _, tool := range []string{"qemu-system-x86_64", "qemu-img", "mkfs.ext4", "ssh", "ssh-keygen"} {
		if !execx.Have(tool) {
			t.Skipf("%s not installed", tool)
		}
	}
	return dir
}

// bootVariant is one kernel of the bundle.
type bootVariant struct {
	name, kernel, initrd string
}

func TestBootBundle(t *testing.T) {
	dir := runtimeDir(t)
	variants := []bootVariant{
		{name: "microvm", kernel: bzImageName},
		{name: "distro", kernel: vmlinuzName, initrd: initrdName},
	}
	booted := 0
	for _, v := range variants {
		if _, err := os.Stat(filepath.Join(dir, v.kernel)); err != nil {
			t.Logf("bundle has no %s kernel (%s); not booting it", v.name, v.kernel)
			continue
		}
		booted++
		t.Run(v.name, func(t *testing.T) { bootAndSSH(t, dir, v) })
	}
	if booted == 0 {
		t.Fatalf("bundle %s has neither %s nor %s", dir, bzImageName, vmlinuzName)
	}
}

// bootAndSSH boots the bundle's rootfs (through a qcow2 overlay, so the
// bundle is never written) with a fresh work disk, waits for the login
// prompt, logs in with the key from the work disk checking the pinned host
// key, checks the disk order, then powers the guest off through ACPI.
func bootAndSSH(t *testing.T, dir string, v bootVariant) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		out, err := execx.Output(ctx, args...)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}

	// Work disk as banger makes it: user key and pinned host key.
	work := filepath.Join(tmp, "workdir")
	for _, d := range []string{".ssh", ".banger"} {
		if err := os.MkdirAll(filepath.Join(work, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	userKey := filepath.Join(tmp, "id_ed25519")
	run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bgt-user", "-f", userKey)
	hostKey := filepath.Join(work, ".banger", "ssh_host_ed25519_key")
	run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bgt-host", "-f", hostKey)
	pub, err := os.ReadFile(userKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, ".ssh", "authorized_keys"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	workImg := filepath.Join(tmp, "work.ext4")
	run("truncate", "-s", "64M", workImg)
	run("mkfs.ext4", "-q", "-F", "-L", "banger-work", "-d", work, workImg)
	overlay := filepath.Join(tmp, "root.qcow2")
	run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", filepath.Join(dir, RootfsName), overlay)

	port := freePort(t)
	console := filepath.Join(tmp, "console.log")
	qmp := filepath.Join(tmp, "qmp.sock")
	args := []string{"qemu-system-x86_64", "-M", "microvm", "-accel", "tcg", "-nodefaults", "-no-user-config",
		"-nographic", "-no-reboot", "-m", "512", "-smp", "1",
		"-serial", "file:" + console, "-qmp", "unix:" + qmp + ",server=on,wait=off",
		"-kernel", filepath.Join(dir, v.kernel),
		"-append", "console=ttyS0 root=/dev/vda rw tsc_early_khz=2000000 banger.name=bgt-" + v.name + " banger.ip=10.0.2.15/24 banger.gw=10.0.2.2 banger.dns=10.0.2.3",
		"-drive", "id=root,file=" + overlay + ",format=qcow2,if=none", "-device", "virtio-blk-device,drive=root",
		"-drive", "id=work,file=" + workImg + ",format=raw,if=none", "-device", "virtio-blk-device,drive=work",
		"-netdev", fmt.Sprintf("user,id=n0,hostfwd=tcp:127.0.0.1:%d-:22", port), "-device", "virtio-net-device,netdev=n0",
	}
	if v.initrd != "" {
		args = append(args, "-initrd", filepath.Join(dir, v.initrd))
	}
	// tsc_early_khz: under TCG on a busy host the PIT calibration of the
	// TSC fails and the guest hangs in early boot without it.
	qctx, qcancel := context.WithCancel(ctx)
	exited := make(chan struct{})
	var qemuErr error
	go func() {
		_, qemuErr = execx.Run(qctx, execx.Cmd{Args: args})
		close(exited)
	}()
	t.Cleanup(func() {
		qcancel()
		<-exited
		if t.Failed() {
			data, _ := os.ReadFile(console)
			t.Logf("serial console:\n%s", tail(string(data), 60))
		}
	})

	start := time.Now()
	waitConsole(t, console, "login:", exited, &qemuErr, 180*time.Second)
	t.Logf("%s: login prompt after %s", v.name, time.Since(start).Round(time.Millisecond))

	knownHosts := filepath.Join(tmp, "known_hosts")
	hostPub, err := os.ReadFile(hostKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(hostPub))
	line := fmt.Sprintf("[127.0.0.1]:%d %s %s\n", port, f[0], f[1])
	if err := os.WriteFile(knownHosts, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	ssh := func(cmd string) (string, error) {
		out, err := execx.Output(ctx, "ssh", "-i", userKey, "-p", fmt.Sprint(port),
			"-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile="+knownHosts,
			"-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "IdentitiesOnly=yes",
			"root@127.0.0.1", cmd)
		return string(out), err
	}
	var out string
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err = ssh("uname -a")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ssh with the work disk's key and pinned host key: %v", err)
		}
		time.Sleep(2 * time.Second)
	}
	t.Logf("%s: ssh ok after %s: %s", v.name, time.Since(start).Round(time.Millisecond), strings.TrimSpace(out))

	// Disk order: the first virtio-blk-device must be /dev/vda (root).
	out, err = ssh("findmnt -no SOURCE /; findmnt -no SOURCE /root; blkid -o value -s LABEL /dev/vda /dev/vdb; hostname; cat /etc/resolv.conf")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(out)
	want := []string{"/dev/vda", "/dev/vdb", "banger-root", "banger-work", "bgt-" + v.name, "nameserver", "10.0.2.3"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("guest layout = %q, want %q", got, want)
	}

	// Graceful stop: ACPI power button through QMP; -no-reboot makes qemu
	// exit when the guest powers off. logind handles the power key; it
	// starts with the rest of boot after sshd (docs/boot.md), so wait for
	// boot to finish: a press before logind listens is lost (banger's stop
	// re-presses and falls back to SSH).
	if _, err := ssh("systemctl is-system-running --wait || true"); err != nil {
		t.Fatal(err)
	}
	powerdown(t, qmp)
	select {
	case <-exited:
		t.Logf("%s: powered off after %s", v.name, time.Since(start).Round(time.Millisecond))
	case <-time.After(90 * time.Second):
		t.Fatal("guest did not power off within 90s of QMP system_powerdown")
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitConsole polls the serial log for want until timeout or qemu exits.
func waitConsole(t *testing.T, path, want string, exited <-chan struct{}, qemuErr *error, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if data, _ := os.ReadFile(path); strings.Contains(string(data), want) {
			return
		}
		select {
		case <-exited:
			t.Fatalf("qemu exited before %q appeared: %v", want, *qemuErr)
		case <-time.After(500 * time.Millisecond):
		}
	}
	t.Fatalf("no %q on the serial console within %s", want, timeout)
}

// powerdown sends system_powerdown over QMP.
func powerdown(t *testing.T, sock string) {
	t.Helper()
	c, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		t.Fatalf("qmp: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	enc := json.NewEncoder(c)
	readReturn := func() {
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				t.Fatalf("qmp: %v", err)
			}
			var msg map[string]any
			if json.Unmarshal(line, &msg) == nil {
				if _, ok := msg["return"]; ok {
					return
				}
				if e, ok := msg["error"]; ok {
					t.Fatalf("qmp: %v", e)
				}
			}
		}
	}
	if _, err := r.ReadBytes('\n'); err != nil { // greeting
		t.Fatalf("qmp: %v", err)
	}
	for _, cmd := range []string{"qmp_capabilities", "system_powerdown"} {
		if err := enc.Encode(map[string]string{"execute": cmd}); err != nil {
			t.Fatalf("qmp: %v", err)
		}
		readReturn()
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
