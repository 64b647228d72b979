package qemu

import (
	"slices"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/vmm"
)

const microvmHelp = `microvm-machine options:
  acpi=<OnOffAuto>       - Enable ACPI
  ioapic2=<OnOffAuto>    - Enable second IO-APIC
  isa-serial=<bool>      - Set off to disable the instantiation an ISA serial port
  rtc=<OnOffAuto>        - Enable MC146818 RTC
  x-option-roms=<bool>   - Set off to disable loading option ROMs
`

const deviceHelp = `Storage devices:
name "virtio-blk-device", bus virtio-bus
Network devices:
name "virtio-net-device", bus virtio-bus
Misc devices:
name "vhost-vsock-device", bus virtio-bus
name "vhost-vsock-pci", bus PCI
name "virtio-balloon-device", bus virtio-bus
`

func testSpec() vmm.Spec {
	return vmm.Spec{
		Name:      "calm-otter",
		Dir:       "/run/banger/vms/calm-otter",
		Kernel:    "/b/bzImage",
		Initrd:    "/b/initrd.img",
		Cmdline:   "banger.name=calm-otter banger.ip=172.30.0.2/24",
		VCPUs:     2,
		MemoryMiB: 1024,
		Drives: []vmm.Drive{
			{ID: "rootfs", Path: "/s/overlay,1.qcow2", Format: "qcow2", Root: true},
			{ID: "work", Path: "/s/work.ext4", Format: "raw"},
			{ID: "seed", Path: "/s/seed.img", Format: "raw", ReadOnly: true},
		},
		Net:        &vmm.NetIface{Tap: "bgtap0", MAC: "52:54:00:12:34:56"},
		ConsoleLog: "/run/banger/vms/calm-otter/console.log",
		VsockCID:   42,
	}
}

func testOpts(accel string) ArgsOptions {
	return ArgsOptions{
		Accel:     accel,
		Caps:      parseCaps("QEMU emulator version 7.2.22 (Debian)", microvmHelp, deviceHelp),
		QMPSocket: "/run/banger/vms/calm-otter/qmp.sock",
		PIDFile:   "/run/banger/vms/calm-otter/qemu.pid",
		Daemonize: true,
		TSCkHz:    2445404,
	}
}

// argAfter returns the values following each occurrence of flag.
func argAfter(args []string, flag string) []string {
	var out []string
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			out = append(out, args[i+1])
		}
	}
	return out
}

func TestParseCaps(t *testing.T) {
	c := testOpts("tcg").Caps
	if c.Version != "7.2.22" {
		t.Errorf("version %q", c.Version)
	}
	for _, o := range []string{"acpi", "ioapic2", "isa-serial", "rtc", "x-option-roms"} {
		if !c.Has(o) {
			t.Errorf("missing machine option %s", o)
		}
	}
	if c.Has("microvm-machine options") || c.Has("pcie") {
		t.Error("unexpected machine option")
	}
	if !c.Devices["vhost-vsock-device"] || !c.Devices["virtio-blk-device"] || c.Devices["vhost-vsock-pci"] {
		t.Errorf("devices %v", c.Devices)
	}
}

func TestBuildArgsTCG(t *testing.T) {
	o := testOpts("tcg")
	o.TBSizeMiB = DefaultTBSizeMiB
	args, err := BuildArgs(testSpec(), o)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"-M":       {"microvm,x-option-roms=off,isa-serial=on,rtc=on,acpi=on"},
		"-accel":   {"tcg,tb-size=64"},
		"-cpu":     {"max"},
		"-m":       {"1024"},
		"-smp":     {"2"},
		"-kernel":  {"/b/bzImage"},
		"-initrd":  {"/b/initrd.img"},
		"-append":  {"console=ttyS0 reboot=t panic=-1 tsc_early_khz=2445404 tsc=reliable root=/dev/vda rw banger.name=calm-otter banger.ip=172.30.0.2/24"},
		"-netdev":  {"tap,id=net0,ifname=bgtap0,script=no,downscript=no"},
		"-chardev": {"file,id=console,path=/run/banger/vms/calm-otter/console.log,append=on"},
		"-serial":  {"chardev:console"},
		"-qmp":     {"unix:/run/banger/vms/calm-otter/qmp.sock,server=on,wait=off"},
		"-pidfile": {"/run/banger/vms/calm-otter/qemu.pid"},
		"-drive": {
			"id=drive-rootfs,file=/s/overlay,,1.qcow2,format=qcow2,if=none,discard=unmap",
			"id=drive-work,file=/s/work.ext4,format=raw,if=none,discard=unmap",
			"id=drive-seed,file=/s/seed.img,format=raw,if=none,discard=unmap,readonly=on",
		},
		"-device": {
			"virtio-blk-device,drive=drive-rootfs,serial=rootfs",
			"virtio-blk-device,drive=drive-work,serial=work",
			"virtio-blk-device,drive=drive-seed,serial=seed",
			"virtio-net-device,netdev=net0,mac=52:54:00:12:34:56",
			"virtio-balloon-device,free-page-reporting=on",
			"vhost-vsock-device,guest-cid=42",
		},
	}
	for flag, vals := range want {
		if got := argAfter(args, flag); !slices.Equal(got, vals) {
			t.Errorf("%s = %q, want %q", flag, got, vals)
		}
	}
	for _, flag := range []string{"-nodefaults", "-no-user-config", "-no-reboot", "-daemonize"} {
		if !slices.Contains(args, flag) {
			t.Errorf("missing %s", flag)
		}
	}
}

func TestBuildArgsKVMAndMinimal(t *testing.T) {
	spec := testSpec()
	spec.Initrd, spec.Net, spec.VsockCID, spec.ConsoleLog, spec.Cmdline = "", nil, 0, "", ""
	spec.Drives = spec.Drives[:1]
	o := testOpts("kvm")
	o.Daemonize = false
	args, err := BuildArgs(spec, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := argAfter(args, "-cpu"); !slices.Equal(got, []string{"host"}) {
		t.Errorf("-cpu %q", got)
	}
	if got := argAfter(args, "-accel"); !slices.Equal(got, []string{"kvm"}) {
		t.Errorf("-accel %q", got)
	}
	for _, flag := range []string{"-initrd", "-netdev", "-daemonize", "-chardev"} {
		if slices.Contains(args, flag) {
			t.Errorf("unexpected %s", flag)
		}
	}
	if got := argAfter(args, "-serial"); !slices.Equal(got, []string{"null"}) {
		t.Errorf("-serial %q", got)
	}
	if got := argAfter(args, "-append"); got[0] != "console=ttyS0 reboot=t panic=-1 root=/dev/vda rw" {
		t.Errorf("-append %q", got)
	}
}

func TestBuildArgsOldQEMU(t *testing.T) {
	o := testOpts("tcg")
	o.Caps = parseCaps("QEMU emulator version 4.2.1", "microvm-machine options:\n  rtc=<OnOffAuto>\n", "")
	spec := testSpec()
	spec.VsockCID = 0
	args, err := BuildArgs(spec, o)
	if err != nil {
		t.Fatal(err)
	}
	if got := argAfter(args, "-M"); got[0] != "microvm,rtc=on" {
		t.Errorf("-M %q", got)
	}
	spec.VsockCID = 7
	if _, err := BuildArgs(spec, o); err == nil || !strings.Contains(err.Error(), "vhost-vsock-device") {
		t.Errorf("vsock without device support: %v", err)
	}
}

func TestCmdlineRootDrive(t *testing.T) {
	spec := testSpec()
	spec.Drives[0].Root = false
	spec.Drives[1].Root = true
	spec.Drives[1].ReadOnly = true
	if got := Cmdline(spec); !strings.Contains(got, "root=/dev/vdb ro ") {
		t.Errorf("Cmdline = %q", got)
	}
	spec.Drives[1].Root = false
	if got := Cmdline(spec); strings.Contains(got, "root=") {
		t.Errorf("Cmdline without root drive = %q", got)
	}
}

func TestBuildArgsValidation(t *testing.T) {
	bad := []struct {
		mut  func(*vmm.Spec)
		want string
	}{
		{func(s *vmm.Spec) { s.Kernel = "" }, "kernel"},
		{func(s *vmm.Spec) { s.VCPUs = 0 }, "vcpu"},
		{func(s *vmm.Spec) { s.MemoryMiB = 16 }, "memory"},
		{func(s *vmm.Spec) { s.Drives[1].Format = "vmdk" }, "unsupported format"},
		{func(s *vmm.Spec) { s.Drives[1].Path = "" }, "no backing file"},
		{func(s *vmm.Spec) { s.Net.MAC = "52:54:00:12:34" }, "invalid guest MAC"},
		{func(s *vmm.Spec) { s.Net.Tap = "" }, "tap"},
		{func(s *vmm.Spec) { s.VsockCID = 2 }, "vsock CID"},
	}
	for _, b := range bad {
		spec := testSpec()
		b.mut(&spec)
		_, err := BuildArgs(spec, testOpts("tcg"))
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("want error with %q, got %v", b.want, err)
		}
	}
	if _, err := BuildArgs(testSpec(), testOpts("hvf")); err == nil {
		t.Error("unknown accelerator accepted")
	}
}

func TestProbeRealBinary(t *testing.T) {
	if _, err := lookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 not installed")
	}
	c, err := Probe(t.Context(), "qemu-system-x86_64")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("qemu %s, microvm options %d", c.Version, len(c.MachineOpts))
	if c.Version == "" || !c.Has("rtc") || !c.Devices["virtio-blk-device"] {
		t.Errorf("caps %+v", c)
	}
}
