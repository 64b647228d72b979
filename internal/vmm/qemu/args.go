package qemu

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/bangerdev/banger/internal/vmm"
)

// ArgsOptions are the host-dependent inputs of BuildArgs.
type ArgsOptions struct {
	// Accel is "kvm" or "tcg".
	Accel string
	// Caps is what the qemu binary supports (see Probe).
	Caps Caps
	// QMPSocket is the QMP unix socket path.
	QMPSocket string
	// PIDFile is where qemu writes its pid.
	PIDFile string
	// VhostNet enables the in-kernel virtio-net backend (/dev/vhost-net).
	VhostNet bool
	// Daemonize adds -daemonize (false only for tests that run qemu
	// attached).
	Daemonize bool
	// TSCkHz, under TCG, is passed to the guest as tsc_early_khz (see
	// Cmdline); 0 leaves TSC calibration to the guest.
	TSCkHz int
	// TBSizeMiB, under TCG, caps QEMU's translated-code cache (tb-size);
	// 0 keeps QEMU's default (1 GiB), which dominates an idle VM's RSS.
	TBSizeMiB int
}

// DefaultTBSizeMiB is the TCG translation cache banger asks for: a booted
// Debian guest's hot code fits, so boot is not slower, and an idle VM's
// QEMU resident memory drops by ~200 MiB against the 1 GiB default (see
// BENCHMARKS.md).
const DefaultTBSizeMiB = 64

// baseCmdline is prepended to Spec.Cmdline. reboot=t makes a guest reboot a
// triple fault, which -no-reboot turns into a qemu exit; panic=-1 reboots
// (and so exits) at once on a kernel panic.
const baseCmdline = "console=ttyS0 reboot=t panic=-1"

var (
	idUnsafe    = regexp.MustCompile(`[^A-Za-z0-9_-]`)
	errNoKernel = errors.New("no kernel image given")
)

// BuildArgs returns the qemu-system-x86_64 arguments (without the program
// name) that boot spec on the microvm machine. Drives are added in spec
// order; with ACPI device discovery the guest numbers virtio-mmio devices in
// command-line order, so Drives[0] becomes /dev/vda.
func BuildArgs(spec vmm.Spec, o ArgsOptions) ([]string, error) {
	if err := validate(spec); err != nil {
		return nil, err
	}
	machine := []string{"microvm"}
	for _, opt := range []string{"x-option-roms=off", "isa-serial=on", "rtc=on"} {
		if name, _, _ := strings.Cut(opt, "="); o.Caps.Has(name) {
			machine = append(machine, opt)
		}
	}
	if o.Caps.Has("acpi") {
		// ACPI gives the guest a power button, so QMP system_powerdown is
		// a clean shutdown.
		machine = append(machine, "acpi=on")
	}
	a := []string{"-M", strings.Join(machine, ",")}
	switch o.Accel {
	case "kvm":
		a = append(a, "-accel", "kvm", "-cpu", "host")
	case "tcg":
		accel := "tcg"
		if o.TBSizeMiB > 0 {
			accel += ",tb-size=" + strconv.Itoa(o.TBSizeMiB)
		}
		a = append(a, "-accel", accel, "-cpu", "max")
	default:
		return nil, fmt.Errorf("unknown qemu accelerator %q", o.Accel)
	}
	a = append(a,
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-name", "guest="+escape(spec.Name)+",process=banger-"+escape(spec.Name),
		"-m", strconv.Itoa(spec.MemoryMiB),
		"-smp", strconv.Itoa(spec.VCPUs),
		"-kernel", spec.Kernel,
	)
	if spec.Initrd != "" {
		a = append(a, "-initrd", spec.Initrd)
	}
	a = append(a, "-append", cmdline(spec, o))
	for i, d := range spec.Drives {
		id := driveID(i, d)
		opts := fmt.Sprintf("id=%s,file=%s,format=%s,if=none,discard=unmap", id, escape(d.Path), d.Format)
		if d.ReadOnly {
			opts += ",readonly=on"
		}
		a = append(a, "-drive", opts,
			"-device", fmt.Sprintf("virtio-blk-device,drive=%s,serial=%s", id, serial(d.ID)))
	}
	if spec.Net != nil {
		netdev := "tap,id=net0,ifname=" + escape(spec.Net.Tap) + ",script=no,downscript=no"
		if o.VhostNet {
			netdev += ",vhost=on"
		}
		a = append(a, "-netdev", netdev,
			"-device", "virtio-net-device,netdev=net0,mac="+spec.Net.MAC)
	}
	if o.Caps.Devices["virtio-balloon-device"] {
		// Free page reporting: the guest hands pages it freed back to the
		// host, so QEMU's resident memory follows what the guest uses
		// rather than its peak (see docs/boot.md). After the disks and
		// the NIC, so it does not renumber them.
		a = append(a, "-device", "virtio-balloon-device,free-page-reporting=on")
	}
	if spec.VsockCID != 0 {
		if !o.Caps.Devices["vhost-vsock-device"] {
			return nil, errors.New("vsock requested but this qemu has no vhost-vsock-device: install a full qemu-system-x86 build")
		}
		a = append(a, "-device", fmt.Sprintf("vhost-vsock-device,guest-cid=%d", spec.VsockCID))
	}
	if spec.ConsoleLog != "" {
		a = append(a, "-chardev", "file,id=console,path="+escape(spec.ConsoleLog)+",append=on",
			"-serial", "chardev:console")
	} else {
		a = append(a, "-serial", "null")
	}
	a = append(a, "-qmp", "unix:"+escape(o.QMPSocket)+",server=on,wait=off")
	if o.PIDFile != "" {
		a = append(a, "-pidfile", o.PIDFile)
	}
	if spec.IncomingState != "" {
		// The saved state is fed over QMP (migrate-incoming) once qemu
		// runs; see loadState.
		a = append(a, "-incoming", "defer")
	}
	if o.Daemonize {
		a = append(a, "-daemonize")
	}
	return a, nil
}

// Cmdline returns the guest kernel command line for spec: the console and
// reboot handling, root= for the Root drive, then spec.Cmdline.
func Cmdline(spec vmm.Spec) string { return cmdline(spec, ArgsOptions{}) }

// cmdline adds tsc_early_khz and tsc=reliable under TCG. On the microvm
// machine with ACPI, a guest whose PIT-based TSC calibration fails (common
// under TCG on a busy host) gets no timer interrupts and hangs at boot;
// giving it the TSC rate (under TCG the host's) skips that calibration.
// Under TCG every vCPU's TSC reads the host's TSC, so the vCPUs agree by
// construction, yet the guest's cross-CPU sync check and watchdog (which
// race with emulated vCPU threads) mark it unstable with 2+ vCPUs and fall
// back to the coarse jiffies clocksource; tsc=reliable skips those checks
// so the guest keeps the high-resolution TSC clocksource.
func cmdline(spec vmm.Spec, o ArgsOptions) string {
	parts := []string{baseCmdline}
	if o.Accel == "tcg" && o.TSCkHz > 0 {
		parts = append(parts, "tsc_early_khz="+strconv.Itoa(o.TSCkHz), "tsc=reliable")
	}
	for i, d := range spec.Drives {
		if d.Root {
			mode := "rw"
			if d.ReadOnly {
				mode = "ro"
			}
			parts = append(parts, "root=/dev/vd"+string(rune('a'+i)), mode)
			break
		}
	}
	if c := strings.TrimSpace(spec.Cmdline); c != "" {
		parts = append(parts, c)
	}
	return strings.Join(parts, " ")
}

func validate(spec vmm.Spec) error {
	if spec.Kernel == "" {
		return errNoKernel
	}
	if spec.VCPUs < 1 {
		return fmt.Errorf("invalid vcpu count %d: must be at least 1", spec.VCPUs)
	}
	if spec.MemoryMiB < 64 {
		return fmt.Errorf("invalid memory size %d MiB: must be at least 64", spec.MemoryMiB)
	}
	if len(spec.Drives) > 20 {
		return fmt.Errorf("too many drives (%d): at most 20", len(spec.Drives))
	}
	for _, d := range spec.Drives {
		if d.Path == "" {
			return fmt.Errorf("drive %q has no backing file", d.ID)
		}
		if d.Format != "raw" && d.Format != "qcow2" {
			return fmt.Errorf("drive %q: unsupported format %q: use raw or qcow2", d.ID, d.Format)
		}
	}
	if spec.Net != nil {
		if spec.Net.Tap == "" {
			return errors.New("network interface has no tap device")
		}
		if _, err := net.ParseMAC(spec.Net.MAC); err != nil || len(spec.Net.MAC) != 17 {
			return fmt.Errorf("invalid guest MAC %q: want xx:xx:xx:xx:xx:xx", spec.Net.MAC)
		}
	}
	if spec.VsockCID != 0 && spec.VsockCID < 3 {
		return fmt.Errorf("invalid vsock CID %d: must be 3 or more", spec.VsockCID)
	}
	return nil
}

// driveID is the qemu block node name for drive i; Query maps it back.
func driveID(i int, d vmm.Drive) string {
	s := idUnsafe.ReplaceAllString(d.ID, "_")
	if s == "" {
		s = strconv.Itoa(i)
	}
	return drivePrefix + s
}

const drivePrefix = "drive-"

// serial is the virtio-blk serial (at most 20 bytes), visible in the guest
// as /dev/disk/by-id/virtio-<serial>.
func serial(id string) string {
	s := idUnsafe.ReplaceAllString(id, "_")
	if len(s) > 20 {
		s = s[:20]
	}
	if s == "" {
		s = "disk"
	}
	return s
}

// escape doubles commas, qemu's escape inside option values.
func escape(s string) string { return strings.ReplaceAll(s, ",", ",,") }
