package bundlebuild

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/bangerdev/banger/internal/bundle"
	"github.com/bangerdev/banger/internal/execx"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadPackages(t *testing.T) {
	p := filepath.Join(t.TempDir(), "packages.apt")
	writeFile(t, p, "# comment\ncurl\n\n  git  # trailing\ncurl\nsudo\n")
	pl, err := ReadPackages(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(pl.Names, ","); got != "curl,git,sudo" {
		t.Fatalf("names = %s", got)
	}
	inc := pl.includes()
	if inc[0] != "systemd" || strings.Count(strings.Join(inc, ","), "sudo") != 1 {
		t.Fatalf("includes = %v", inc)
	}
	key := pl.rootfsKey("bookworm")
	writeFile(t, p, "curl\ngit\nsudo\n# same set\n")
	pl2, _ := ReadPackages(p)
	if pl2.rootfsKey("bookworm") != key || pl2.rootfsKey("trixie") == key || pl2.SHA256 == pl.SHA256 {
		t.Fatal("rootfs key must depend on suite and package set only; stamp on the file")
	}
	writeFile(t, p, "curl wget\n")
	if _, err := ReadPackages(p); err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Fatalf("two names on a line: err = %v", err)
	}
}

func TestUnstuckOptions(t *testing.T) {
	frag := []byte("# c\nCONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\nCONFIG_D=n\nCONFIG_E=\"x\"\n")
	config := []byte("CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=y\nCONFIG_E=\"x\"\n")
	got := strings.Join(unstuckOptions(frag, config), "; ")
	want := "CONFIG_B=y (got n); CONFIG_C=n (got y)"
	if got != want {
		t.Fatalf("unstuck = %q, want %q", got, want)
	}
}

func TestRepoFragmentParses(t *testing.T) {
	data, err := os.ReadFile("../../kernel/microvm.fragment")
	if err != nil {
		t.Skipf("no repo fragment: %v", err)
	}
	opts, _ := fragmentOptions(data)
	for _, must := range []string{"CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES", "CONFIG_ACPI_BUTTON", "CONFIG_SERIO_I8042", "CONFIG_DEVTMPFS", "CONFIG_OVERLAY_FS"} {
		if opts[must] != "y" {
			t.Errorf("%s = %q in kernel/microvm.fragment, want y", must, opts[must])
		}
	}
}

// fakeTree is the part of a debootstrap tree customize touches.
func fakeTree(t *testing.T) string {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "etc/shadow"), "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n")
	writeFile(t, filepath.Join(root, "etc/ssh/ssh_host_rsa_key"), "k")
	writeFile(t, filepath.Join(root, "etc/ssh/ssh_host_rsa_key.pub"), "k")
	writeFile(t, filepath.Join(root, "etc/machine-id"), "0123\n")
	writeFile(t, filepath.Join(root, "etc/hostname"), "buildhost\n")
	writeFile(t, filepath.Join(root, "etc/resolv.conf"), "nameserver 192.0.2.1\n")
	writeFile(t, filepath.Join(root, "var/lib/dbus/machine-id"), "0123\n")
	if err := os.MkdirAll(filepath.Join(root, "etc/systemd/system/timers.target.wants"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/lib/systemd/system/apt-daily.timer", filepath.Join(root, "etc/systemd/system/timers.target.wants/apt-daily.timer")); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestCustomize(t *testing.T) {
	root := fakeTree(t)
	if err := customize(Options{}, root); err != nil {
		t.Fatal(err)
	}
	read := func(p string) string {
		data, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	if s := read("etc/shadow"); !strings.HasPrefix(s, "root:!:19000:") || !strings.Contains(s, "daemon:*:") {
		t.Errorf("shadow = %q", s)
	}
	if m, _ := filepath.Glob(filepath.Join(root, "etc/ssh/ssh_host_*")); len(m) != 0 {
		t.Errorf("host keys left: %v", m)
	}
	if s := read("etc/machine-id"); s != "" {
		t.Errorf("machine-id = %q", s)
	}
	if s := read("etc/resolv.conf") + read("etc/hostname"); strings.Contains(s, "192.0.2.1") || strings.Contains(s, "buildhost") {
		t.Errorf("host identity leaked: %q", s)
	}
	// The work disk is mounted by banger-guest from /dev/vdb: no fstab line
	// (no wait on udev for a device unit, no fsck pass).
	if s := read("etc/fstab"); strings.Contains(s, "\n/dev/vdb") || strings.Contains(s, "LABEL=") || !strings.Contains(s, "/dev/vda / ext4 defaults 0 0") {
		t.Errorf("fstab = %q", s)
	}
	if s := read("etc/systemd/system/ssh.service.d/banger.conf"); !strings.Contains(s, "DefaultDependencies=no") || !strings.Contains(s, "After=banger-guest.service") {
		t.Errorf("ssh drop-in = %q", s)
	}
	for _, u := range []string{"sysinit.target", "systemd-udev-trigger.service", "systemd-udevd.service", "systemd-tmpfiles-setup.service", "systemd-sysusers.service"} {
		if s := read("etc/systemd/system/" + u + ".d/banger.conf"); !strings.Contains(s, "After=banger-ready.service banger-hold.service") {
			t.Errorf("%s drop-in = %q", u, s)
		}
	}
	if s := read("etc/systemd/system/banger-ready.service"); !strings.Contains(s, "StandardOutput=file:/dev/console") || !strings.Contains(s, "After=ssh.service") {
		t.Errorf("banger-ready.service = %q", s)
	}
	// The rest of boot waits for the host's datagram (or 10 s) after sshd.
	if s := read("etc/systemd/system/banger-hold.service"); !strings.Contains(s, "After=banger-ready.service") || !strings.Contains(s, "Sockets=banger-release.socket") || !strings.Contains(s, "read -r -t 10") || !strings.Contains(s, "ConditionKernelCommandLine=!banger.hold=0") {
		t.Errorf("banger-hold.service = %q", s)
	}
	if s := read("etc/systemd/system/banger-release.socket"); !strings.Contains(s, "ListenDatagram=0.0.0.0:7022") || !strings.Contains(s, "Before=banger-ready.service") {
		t.Errorf("banger-release.socket = %q", s)
	}
	if s := read("etc/ssh/sshd_config.d/banger.conf"); !strings.Contains(s, "PermitRootLogin prohibit-password") || !strings.Contains(s, "PasswordAuthentication no") {
		t.Errorf("sshd drop-in = %q", s)
	}
	info, err := os.Stat(filepath.Join(root, "usr/local/sbin/banger-guest"))
	if err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("banger-guest: %v %v", info, err)
	}
	links := map[string]string{
		"etc/systemd/system/multi-user.target.wants/banger-guest.service":  "/etc/systemd/system/banger-guest.service",
		"etc/systemd/system/multi-user.target.wants/banger-ready.service":  "/etc/systemd/system/banger-ready.service",
		"etc/systemd/system/multi-user.target.wants/banger-growfs.service": "/etc/systemd/system/banger-growfs.service",
		"etc/systemd/system/multi-user.target.wants/banger-hold.service":   "/etc/systemd/system/banger-hold.service",
		"etc/systemd/system/apt-daily.timer":                               "/dev/null",
		"etc/systemd/network/99-default.link":                              "/dev/null",
		"var/lib/dbus/machine-id":                                          "/etc/machine-id",
	}
	for l, want := range links {
		if got, err := os.Readlink(filepath.Join(root, l)); err != nil || got != want {
			t.Errorf("%s -> %q (%v), want %q", l, got, err, want)
		}
	}
	if _, err := os.Lstat(filepath.Join(root, "etc/systemd/system/timers.target.wants/apt-daily.timer")); err == nil {
		t.Error("apt-daily.timer still enabled")
	}
}

func TestGuestDirOverride(t *testing.T) {
	dir := t.TempDir()
	if _, err := loadGuestFiles(dir); err == nil || !strings.Contains(err.Error(), "banger-guest") {
		t.Fatalf("empty GuestDir: err = %v", err)
	}
	for _, f := range guestLayout {
		writeFile(t, filepath.Join(dir, f.name), "custom "+f.name)
	}
	g, err := loadGuestFiles(dir)
	if err != nil || string(g["fstab"]) != "custom fstab" {
		t.Fatalf("override: %v %q", err, g["fstab"])
	}
}

// The stock baseline of make bench: only the required guest files and no
// masks, so none of the boot tuning is in the image.
func TestUntunedStockGuest(t *testing.T) {
	root := fakeTree(t)
	if err := customize(Options{GuestDir: "../../e2e/testdata/stock-guest", Untuned: true}, root); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"etc/systemd/system/apt-daily.timer", "etc/systemd/system/banger-ready.service", "etc/systemd/system/ssh.service.d/banger.conf"} {
		if _, err := os.Lstat(filepath.Join(root, p)); err == nil {
			t.Errorf("%s exists in the untuned image", p)
		}
	}
	if _, err := os.Lstat(filepath.Join(root, "etc/systemd/system/multi-user.target.wants/banger-guest.service")); err != nil {
		t.Errorf("banger-guest not enabled: %v", err)
	}
}

func TestMakeExt4(t *testing.T) {
	for _, tool := range []string{"mkfs.ext4", "debugfs", "e2label"} {
		if !execx.Have(tool) {
			t.Skipf("%s not installed (e2fsprogs)", tool)
		}
	}
	tree := t.TempDir()
	writeFile(t, filepath.Join(tree, "usr/local/sbin/banger-guest"), "#!/bin/sh\n")
	writeFile(t, filepath.Join(tree, "big"), strings.Repeat("x", 3<<20))
	img := filepath.Join(t.TempDir(), "rootfs.ext4")
	size, err := makeExt4(context.Background(), tree, img, RootfsLabel)
	if err != nil {
		t.Fatal(err)
	}
	if size < 96<<20 || size > 110<<20 {
		t.Errorf("size = %d, want content+30%%+96MiB", size)
	}
	out, err := execx.Output(context.Background(), "e2label", img)
	if err != nil || strings.TrimSpace(string(out)) != RootfsLabel {
		t.Fatalf("label = %q (%v)", out, err)
	}
	out, err = execx.Output(context.Background(), "debugfs", "-R", "cat /usr/local/sbin/banger-guest", img)
	if err != nil || string(out) != "#!/bin/sh\n" {
		t.Fatalf("content = %q (%v)", out, err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(img, &st); err != nil {
		t.Fatal(err)
	}
	if used := st.Blocks * 512; used >= size {
		t.Errorf("image uses %d bytes of %d: not sparse", used, size)
	}
}

func TestInstallReplacesManagedEntries(t *testing.T) {
	stage, out := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(stage, vmlinuxName), "new")
	writeFile(t, filepath.Join(out, vmlinuxName), "old")
	writeFile(t, filepath.Join(out, initrdName), "stale")
	writeFile(t, filepath.Join(out, modulesName, "x/y.ko"), "stale")
	writeFile(t, filepath.Join(out, "user-file"), "keep")
	if err := install(stage, out); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{vmlinuxName: "new", "user-file": "keep"} {
		if data, _ := os.ReadFile(filepath.Join(out, name)); string(data) != want {
			t.Errorf("%s = %q, want %q", name, data, want)
		}
	}
	for _, gone := range []string{initrdName, modulesName} {
		if _, err := os.Stat(filepath.Join(out, gone)); err == nil {
			t.Errorf("stale %s kept", gone)
		}
	}
}

func TestMetadataMicroVM(t *testing.T) {
	stage := t.TempDir()
	writeFile(t, filepath.Join(stage, vmlinuxName), "\x7fELF")
	writeFile(t, filepath.Join(stage, modulesName, "6.1/modules.dep"), "")
	o := Options{Kernel: KernelBoth, Suite: "bookworm"}
	md := newMetadata(o, &PackageList{})
	md.distro(o, "6.1.0-cloud")
	md.microVM("6.1.192")
	if err := writeMetadata(stage, md); err != nil {
		t.Fatal(err)
	}
	m, err := bundle.Load(stage)
	if err != nil {
		t.Fatal(err)
	}
	if m.Kernel != vmlinuxName || m.KernelFormat != bundle.FormatELF || m.BzImage != bzImageName || m.Initrd != "" || m.Rootfs != RootfsName || m.Build.KernelVersion != "6.1.192" {
		t.Fatalf("metadata = %+v", m)
	}
	if _, ok := m.Files["modules/6.1/modules.dep"]; !ok {
		t.Fatalf("files = %v", m.Files)
	}
}

func TestOptionsValidation(t *testing.T) {
	cases := map[string]Options{
		"no output directory": {CacheDir: "/c"},
		"no cache directory":  {OutDir: "/o"},
		"unknown kernel":      {OutDir: "/o", CacheDir: "/c", Kernel: "fancy"},
		"bad suite":           {OutDir: "/o", CacheDir: "/c", Suite: "../x"},
	}
	for want, o := range cases {
		if err := Build(context.Background(), o); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v", want, err)
		}
	}
}

func TestHelpersShippedAndListed(t *testing.T) {
	stage := t.TempDir()
	writeFile(t, filepath.Join(stage, vmlinuxName), "\x7fELF")
	md := newMetadata(Options{Suite: "bookworm"}, &PackageList{})
	md.microVM("6.1.192")
	if err := stageHelpers(stage, md); err != nil {
		t.Fatal(err)
	}
	if err := writeMetadata(stage, md); err != nil {
		t.Fatal(err)
	}
	r, err := bundle.Resolve(stage, bundle.Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	for name, file := range map[string]string{"customize": "customize.sh", "make-rootfs": "make-rootfs.sh", "interactive": "interactive.sh", "verify": "verify.sh", "packages": "packages.sh", "dns": "dns.sh", "nat": "nat.sh"} {
		p := r.Helpers[name]
		fi, err := os.Stat(p)
		if p != filepath.Join(stage, file) || err != nil {
			t.Errorf("helper %s = %q (%v), want %s in the bundle", name, p, err, file)
			continue
		}
		if lib := name == "packages" || name == "dns"; (fi.Mode().Perm()&0o111 != 0) == lib {
			t.Errorf("helper %s mode %v", name, fi.Mode())
		}
	}
	// A bundle's customize.sh finds its library beside it.
	out, err := exec.Command(filepath.Join(stage, "customize.sh"), "--package", "jq", "--print").Output()
	if err != nil || !strings.Contains(string(out), "apt-get install -y -q --no-install-recommends jq") {
		t.Fatalf("bundled customize.sh: %v\n%s", err, out)
	}
}
