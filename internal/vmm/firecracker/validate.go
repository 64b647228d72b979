package firecracker

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bangerdev/banger/internal/vmm"
)

// MaxCmdline is firecracker's x86_64 kernel command line capacity
// (CMDLINE_MAX_SIZE), including the terminating NUL byte.
const MaxCmdline = 2048

// maxSocketPath is the longest path a unix socket can be bound at:
// sun_path holds 108 bytes including the terminating NUL.
const maxSocketPath = 107

// BootArgs returns the kernel command line firecracker gets; firecracker
// itself appends root= for the root drive, one virtio_mmio.device= per
// device and pci=off.
func BootArgs(spec vmm.Spec) string {
	if c := strings.TrimSpace(spec.Cmdline); c != "" {
		return baseBootArgs + " " + c
	}
	return baseBootArgs
}

// appendedCmdline estimates what firecracker adds to the command line at
// InstanceStart for spec: "root=/dev/vda rw", " pci=off" and, per device,
// " virtio_mmio.device=4K@0xc0001000:5" (at most 36 bytes).
func appendedCmdline(spec vmm.Spec) int {
	devices := len(spec.Drives)
	if spec.Net != nil {
		devices++
	}
	if spec.VsockCID != 0 {
		devices++
	}
	return len(" root=/dev/vda rw") + len(" pci=off") + 36*devices
}

// ValidID reports whether id is a valid firecracker API resource id (drive
// and network interface ids): not empty, letters, digits and '_' only.
func ValidID(id string) bool {
	if id == "" {
		return false
	}
	for _, c := range id {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func validate(spec vmm.Spec) error {
	if spec.Dir == "" {
		return errors.New("no runtime directory given")
	}
	if spec.VCPUs < 1 || spec.VCPUs > 32 {
		return fmt.Errorf("invalid vcpu count %d: firecracker supports 1 to 32", spec.VCPUs)
	}
	if spec.MemoryMiB < 64 {
		return fmt.Errorf("invalid memory size %d MiB: must be at least 64", spec.MemoryMiB)
	}
	for i, dr := range spec.Drives {
		if !ValidID(dr.ID) {
			return fmt.Errorf("drive %d: invalid id %q: firecracker drive ids may hold only letters, digits and '_'", i, dr.ID)
		}
		if dr.Format != "" && dr.Format != "raw" {
			return fmt.Errorf("drive %q is %s: firecracker only reads raw images; convert it with qemu-img convert -O raw, or set vmm = \"qemu\"", dr.ID, dr.Format)
		}
		// Firecracker always makes the root device /dev/vda; keep the
		// guest order equal to the spec order.
		if dr.Root && i != 0 {
			return fmt.Errorf("drive %q is the root drive but not the first: firecracker always exposes the root drive as /dev/vda", dr.ID)
		}
	}
	if spec.Net != nil && spec.Net.Tap == "" {
		return errors.New("network interface has no tap device")
	}
	if spec.VsockCID != 0 && spec.VsockCID < 3 {
		return fmt.Errorf("invalid vsock CID %d: must be 3 or more", spec.VsockCID)
	}
	args, extra := BootArgs(spec), appendedCmdline(spec)
	if len(args)+extra >= MaxCmdline {
		return fmt.Errorf("kernel command line is %d bytes and firecracker adds up to %d for the devices; together they must stay under %d: shorten the kernel arguments in the config", len(args), extra, MaxCmdline)
	}
	return nil
}

// checkSocketPath refuses a socket path a unix socket cannot be bound at,
// before firecracker fails on it with a less clear message.
func checkSocketPath(what, path string) error {
	if len(path) > maxSocketPath {
		return fmt.Errorf("firecracker %s socket path %s is %d bytes, longer than the %d a unix socket allows: use a shorter state directory (BANGER_STATE_DIR) or a shorter VM name", what, path, len(path), maxSocketPath)
	}
	return nil
}
