package preflight

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeHost is a Checker whose PATH holds only the given programs.
func fakeHost(programs ...string) *Checker {
	have := map[string]bool{}
	for _, p := range programs {
		have[p] = true
	}
	c := NewChecker()
	c.LookPath = func(name string) (string, error) {
		if have[name] {
			return "/usr/bin/" + name, nil
		}
		return "", errors.New("not found")
	}
	c.IsRoot = func() bool { return true }
	c.NetPrivileged = func() error { return nil }
	c.OpenDevice = func(string, bool) error { return nil }
	c.KVM = func() error { return nil }
	return c
}

func TestCheckListsEveryMissingItemWithPackages(t *testing.T) {
	c := fakeHost("mkfs.ext4")
	c.NetPrivileged = func() error {
		return errors.New("this account is not set up for banger yet: run 'sudo banger system install --user $USER' once")
	}
	err := c.Check("vm start", ForVMStart(DriverQEMU)...)
	var me *MissingError
	if !errors.As(err, &me) {
		t.Fatalf("got %v, want *MissingError", err)
	}
	want := `vm start needs 3 things that are missing:
  - network privilege (create tap devices and the VM bridge): this account is not set up for banger yet: run 'sudo banger system install --user $USER' once
  - qemu-system-x86_64 (boots VMs): apt-get install qemu-system-x86 (Debian) / dnf install qemu-system-x86-core (Fedora)
  - qemu-img (creates copy-on-write system overlays): apt-get install qemu-utils (Debian) / dnf install qemu-img (Fedora)`
	if err.Error() != want {
		t.Errorf("got:\n%s\nwant:\n%s", err, want)
	}
}

func TestCheckAllPresentPasses(t *testing.T) {
	c := fakeHost("mkfs.ext4", "qemu-system-x86_64", "qemu-img", "firecracker", "ssh", "e2fsck", "resize2fs", "nft")
	for action, needs := range map[string][]Need{
		"vm start (qemu)":        ForVMStart(DriverQEMU),
		"vm start (firecracker)": ForVMStart(DriverFirecracker),
		"ssh":                    ForSSH(),
		"resize":                 ForDiskResize(),
		"nat":                    ForNAT(),
	} {
		if err := c.Check(action, needs...); err != nil {
			t.Errorf("%s: %v", action, err)
		}
	}
}

func TestCheckSingleMissingAndNoPackage(t *testing.T) {
	c := fakeHost("mkfs.ext4")
	c.KVM = func() error { return errors.New("the CPU does not advertise vmx or svm") }
	err := c.Check("vm start", ForVMStart(DriverFirecracker)...)
	if err == nil {
		t.Fatal("want an error")
	}
	msg := err.Error()
	for _, want := range []string{
		"vm start needs 2 things that are missing:",
		"  - firecracker (boots VMs): no distribution package: download a firecracker release",
		"  - /dev/kvm (firecracker needs hardware virtualization): the CPU does not advertise vmx or svm",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	err = fakeHost().Check("vm ssh", ForSSH()...)
	want := "vm ssh needs 1 thing that is missing:\n  - ssh (connects to VMs): apt-get install openssh-client (Debian) / dnf install openssh-clients (Fedora)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestAnyOf(t *testing.T) {
	if err := fakeHost("iptables").Check("nat", ForNAT()...); err != nil {
		t.Errorf("iptables alone should satisfy NAT: %v", err)
	}
	err := fakeHost().Check("vm set --nat", ForNAT()...)
	want := "vm set --nat needs 1 thing that is missing:\n  - nft or iptables (NAT firewall rules): apt-get install nftables (Debian) / dnf install nftables (Fedora)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	rows := fakeHost("iptables").Report(ForNAT()...)
	if !rows[1].OK || rows[1].Detail != "iptables: /usr/bin/iptables" {
		t.Errorf("AnyOf row = %+v", rows[1])
	}
}

func TestReportRows(t *testing.T) {
	dir := t.TempDir()
	kernel := filepath.Join(dir, "vmlinux")
	if err := os.WriteFile(kernel, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := fakeHost("ssh")
	c.OpenDevice = func(path string, write bool) error {
		if !write {
			t.Errorf("device %s checked read-only, want read-write", path)
		}
		return errors.New("not writable by this user")
	}
	needs := []Need{
		Program("ssh", "connects to VMs"),
		Program("ssh", "duplicate, reported once"),
		Program("e2cp", "copies files"),
		File(kernel, "guest kernel", "run 'banger bundle build'"),
		File(filepath.Join(dir, "rootfs.ext4"), "guest rootfs", "run 'banger bundle build'"),
		Dir(kernel, "modules", "reinstall the bundle"),
		Device("/dev/net/tun", true, "tap devices", "modprobe tun"),
		Func("ip forwarding", func() error { return nil }),
		Func("bridge", func() error { return errors.New("banger0 is down: run 'banger doctor --fix'") }),
	}
	rows := c.Report(needs...)
	type row struct {
		name   string
		ok     bool
		detail string
		fix    string
	}
	want := []row{
		{"ssh", true, "/usr/bin/ssh", ""},
		{"e2cp", false, "not found in PATH", "apt-get install e2tools (Debian) / dnf install e2tools (Fedora)"},
		{kernel, true, "", ""},
		{filepath.Join(dir, "rootfs.ext4"), false, "not found", "run 'banger bundle build'"},
		{kernel, false, "not a directory", "reinstall the bundle"},
		{"/dev/net/tun", false, "not writable by this user", "modprobe tun"},
		{"ip forwarding", true, "", ""},
		{"bridge", false, "banger0 is down: run 'banger doctor --fix'", ""},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i, w := range want {
		g := rows[i]
		if g.Name != w.name || g.OK != w.ok || g.Detail != w.detail || g.Fix != w.fix {
			t.Errorf("row %d = %+v, want %+v", i, g, w)
		}
	}
	if rows[3].Line() != filepath.Join(dir, "rootfs.ext4")+" (guest rootfs): not found; run 'banger bundle build'" {
		t.Errorf("file line = %q", rows[3].Line())
	}
}

func TestFileNeedRealFilesystem(t *testing.T) {
	dir := t.TempDir()
	c := NewChecker()
	err := c.Check("image build", Dir(dir, "work dir", ""), File(filepath.Join(dir, "nope"), "base rootfs", "set default_base_rootfs"))
	if err == nil || !strings.Contains(err.Error(), "nope (base rootfs): not found; set default_base_rootfs") {
		t.Fatalf("got %v", err)
	}
}

func TestRealProgramLookup(t *testing.T) {
	c := NewChecker()
	rows := c.Report(Program("sh", "shell"), Program("banger-no-such-program-bgt", "nothing"))
	if !rows[0].OK || !strings.HasSuffix(rows[0].Detail, "/sh") {
		t.Errorf("sh row = %+v", rows[0])
	}
	if rows[1].OK {
		t.Errorf("missing program reported present: %+v", rows[1])
	}
}

func TestOpenDeviceReal(t *testing.T) {
	if err := openDevice("/dev/null", true); err != nil {
		t.Errorf("/dev/null: %v", err)
	}
	if err := openDevice("/dev/bgt-no-such-device", false); err == nil || err.Error() != "device not found" {
		t.Errorf("missing device: %v", err)
	}
}

func TestLinuxSource(t *testing.T) {
	dir := t.TempDir()
	c := NewChecker()
	rows := c.Report(LinuxSource(dir))
	if rows[0].OK || !strings.Contains(rows[0].Fix, "apt-get install linux-source") {
		t.Errorf("empty dir row = %+v", rows[0])
	}
	if err := os.WriteFile(filepath.Join(dir, "linux-source-6.1.tar.xz"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if rows := c.Report(LinuxSource(dir)); !rows[0].OK {
		t.Errorf("tarball present but row = %+v", rows[0])
	}
}

func TestBundleBuildNeeds(t *testing.T) {
	distro := ForBundleBuild(KernelDistro)
	micro := ForBundleBuild(KernelMicroVM)
	if len(micro) <= len(distro) {
		t.Fatalf("microvm kernel build should need more than the distro kernel")
	}
	c := fakeHost("debootstrap", "mkfs.ext4", "e2fsck", "resize2fs", "mount", "chroot", "apt-get", "depmod")
	c.Stat = func(string) (fs.FileInfo, error) { return nil, fs.ErrNotExist }
	if err := c.Check("bundle build", distro...); err != nil {
		t.Errorf("distro bundle: %v", err)
	}
	both := ForBundleBuild("both")
	if len(both) != len(micro)+2 {
		t.Errorf("both kernels need %d things; want the microvm build's %d plus apt-get and depmod", len(both), len(micro))
	}
	if err := fakeHost("debootstrap", "mkfs.ext4", "e2fsck", "resize2fs", "mount", "chroot").Check("bundle build", distro...); err == nil || !strings.Contains(err.Error(), "apt-get install kmod") {
		t.Errorf("distro bundle without depmod: %v", err)
	}
	err := c.Check("bundle build", micro[:len(micro)-1]...)
	msg := err.Error()
	for _, want := range []string{"needs 9 things", "make (kernel build): apt-get install make", "libelf.h (kernel build): not found; apt-get install libelf-dev (Debian) / dnf install elfutils-libelf-devel (Fedora)", "xz-utils"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}

func TestCatalogueByPath(t *testing.T) {
	n := Program("/opt/fc/firecracker", "boots VMs")
	if !strings.Contains(n.Hint, "firecracker release") {
		t.Errorf("catalogue lookup by path failed: %+v", n)
	}
	for name, e := range catalogue {
		if e.debian == "" && e.fedora == "" && e.hint == "" {
			t.Errorf("catalogue entry %s says nothing about how to get it", name)
		}
	}
}
