// Package vmm defines the interface every virtual machine monitor driver
// (firecracker, qemu) implements, and the spec the daemon hands to it.
//
// A driver starts a VMM process detached from the daemon (its own session),
// so VMs keep running when bangerd stops; the daemon persists the returned
// Handle and re-adopts the process later with Alive.
package vmm

import (
	"context"
	"syscall"
)

// Drive is one block device given to the guest, in guest order: the first
// drive is /dev/vda (the root filesystem), the second /dev/vdb, and so on.
type Drive struct {
	// ID is a short identifier ("rootfs", "work").
	ID string
	// Path is the host file backing the drive.
	Path string
	// Format is "raw" or "qcow2" (qcow2 only for the qemu driver).
	Format string
	// ReadOnly exposes the drive read-only to the guest.
	ReadOnly bool
	// Root marks the drive holding the root filesystem.
	Root bool
}

// NetIface is the guest's single network interface, backed by a host tap.
type NetIface struct {
	// Tap is the host tap device name (already created and attached).
	Tap string
	// MAC is the guest MAC address (xx:xx:xx:xx:xx:xx).
	MAC string
}

// Spec is everything a driver needs to boot one VM.
type Spec struct {
	// Name is the VM name (used for process titles and logs).
	Name string
	// Dir is the VM's private runtime directory: sockets, pid, logs.
	Dir string
	// Kernel is the kernel image (ELF vmlinux for firecracker; bzImage or
	// vmlinux for qemu).
	Kernel string
	// Initrd is optional.
	Initrd string
	// Cmdline is the kernel command line (without root=, which drivers add
	// for the Root drive).
	Cmdline string
	// VCPUs is the number of virtual CPUs.
	VCPUs int
	// MemoryMiB is guest memory in MiB.
	MemoryMiB int
	// Drives in guest order.
	Drives []Drive
	// Net is the network interface; nil means none.
	Net *NetIface
	// ConsoleLog receives the guest serial console.
	ConsoleLog string
	// VsockCID, when non-zero, adds a vsock device with that guest CID.
	VsockCID uint32
	// IncomingState, when set, is a directory written by Suspend: the
	// driver loads the saved memory and device state from it instead of
	// booting the kernel, and the guest continues where it was suspended.
	// The rest of the spec must describe the same machine (vCPUs, memory,
	// drives, network) as when it was saved.
	IncomingState string
}

// Handle identifies a running VMM process so it can be re-adopted after a
// daemon restart. It is persisted in the state database as JSON.
type Handle struct {
	// Driver is the driver name that started the process.
	Driver string `json:"driver"`
	// PID is the VMM process id.
	PID int `json:"pid"`
	// StartTime is the process start time in clock ticks since boot (field 22
	// of /proc/PID/stat); it guards against PID reuse.
	StartTime uint64 `json:"start_time"`
	// ControlSocket is the API (firecracker) or QMP (qemu) socket path.
	ControlSocket string `json:"control_socket"`
	// Accel is the accelerator in use ("kvm" or "tcg").
	Accel string `json:"accel,omitempty"`
	// Console is the guest console log the process writes, and
	// ConsoleOffset its size when the process started: drivers that must
	// read what this guest printed (firecracker, to see a guest that halted
	// instead of exiting) read from there on. Empty for other drivers.
	Console       string `json:"console,omitempty"`
	ConsoleOffset int64  `json:"console_offset,omitempty"`
}

// Driver is implemented by each VMM backend.
type Driver interface {
	// Name returns "firecracker" or "qemu".
	Name() string
	// Start boots spec and returns once the VMM process is running and the
	// guest has been started. The process must outlive the caller.
	Start(ctx context.Context, spec Spec) (Handle, error)
	// Shutdown asks the guest to power off (ACPI power button or
	// Ctrl-Alt-Del). It returns without waiting for the process to exit.
	Shutdown(ctx context.Context, h Handle) error
	// Kill sends sig to the VMM process.
	Kill(h Handle, sig syscall.Signal) error
	// Alive reports whether the process in h still runs (same PID and start
	// time, not a zombie).
	Alive(h Handle) bool
	// Suspend pauses the guest, writes its memory and device state into the
	// directory stateDir (created if needed; the driver chooses the file
	// names) and ends the VMM process. On failure the guest keeps running
	// and no partial state is left in stateDir.
	Suspend(ctx context.Context, h Handle, stateDir string) error
	// Version returns the VMM program's version. A saved state loads only
	// into the version that wrote it.
	Version(ctx context.Context) (string, error)
}

// DefaultGuestStopCommand is the shell command run in the guest over SSH
// when the VMM's own shutdown request is not honoured in time.
const DefaultGuestStopCommand = "systemctl poweroff || poweroff"

// GuestStopCommander is implemented by drivers whose VMM does not exit on a
// guest power-off and need another guest command to end the process.
type GuestStopCommander interface {
	// GuestStopCommand is the shell command to run in the guest.
	GuestStopCommand() string
}

// GuestStopCommand returns the command to run in a guest of d to make its
// VMM process exit: the driver's own (GuestStopCommander), else
// DefaultGuestStopCommand.
func GuestStopCommand(d Driver) string {
	if c, ok := d.(GuestStopCommander); ok {
		return c.GuestStopCommand()
	}
	return DefaultGuestStopCommand
}

// StateTraits say how a driver's saved state is tied to the host.
type StateTraits struct {
	// MappedAfterLoad: after loading a state the VMM keeps reading its
	// files for as long as it runs (firecracker maps guest memory from
	// the memory file, MAP_PRIVATE, and needs it unchanged), so they stay
	// until the process exits or the next suspend replaces them.
	MappedAfterLoad bool
	// DrivePathsFixed: the state records the host paths of the drives
	// and loads only with the drives at the same paths (firecracker);
	// qemu takes them from its command line instead.
	DrivePathsFixed bool
}

// StateTraitsReporter is implemented by drivers whose saved state has
// traits (see StateTraits); drivers without it have none.
type StateTraitsReporter interface {
	// StateTraits describes the driver's saved state.
	StateTraits() StateTraits
}

// StateTraitsOf returns d's StateTraits, zero for drivers without any.
func StateTraitsOf(d Driver) StateTraits {
	if r, ok := d.(StateTraitsReporter); ok {
		return r.StateTraits()
	}
	return StateTraits{}
}
