// Package firecracker is the vmm driver for Firecracker: it spawns the
// firecracker binary detached from the daemon and configures the microVM
// through the REST API on its unix socket, as firecracker's OpenAPI
// description (src/firecracker/swagger/firecracker.yaml) specifies.
package firecracker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/bangerdev/banger/internal/detach"
	"github.com/bangerdev/banger/internal/vmm"
)

// Name is the driver name stored in handles.
const Name = vmm.DriverFirecracker

// File names inside Spec.Dir.
const (
	APISocketName   = "firecracker.sock"
	VsockSocketName = "vsock.sock"
	// LogFileName is firecracker's own log (--log-path). The previous
	// boot's log is kept as LogFileName + ".prev".
	LogFileName    = "firecracker.log"
	StderrFileName = "firecracker.stderr"
)

// netIfaceID is the id of the guest's network interface.
const netIfaceID = "eth0"

// LogLevel is the firecracker log level banger runs with (--level).
const LogLevel = "Warning"

// baseBootArgs precede Spec.Cmdline; boot_args replaces firecracker's
// default command line entirely, so what banger needs of it is here.
// console=ttyS0 is the serial console (firecracker's default disables it
// with 8250.nr_uarts=0). reboot=k makes a guest reboot go through the i8042
// keyboard controller, which firecracker turns into a clean exit; panic=1
// reboots (and so exits) a second after a panic. The i8042 parameters are
// the ones firecracker documents (docs/api_requests/actions.md) to skip
// the guest driver's probing of the emulated controller at boot; the
// keyboard, and so Ctrl-Alt-Del, keeps working. Firecracker appends pci=off
// itself when PCI is not enabled.
const baseBootArgs = "console=ttyS0 reboot=k panic=1 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd"

// Driver implements vmm.Driver with firecracker.
type Driver struct {
	// Binary is the firecracker program (path or PATH name).
	Binary string
	// StartTimeout bounds the wait for the API socket (default 10 s).
	StartTimeout time.Duration

	// skipKVMCheck lets tests run a fake firecracker on hosts without KVM.
	skipKVMCheck bool
}

// New returns a driver running binary ("" for firecracker from PATH).
func New(binary string) *Driver {
	return &Driver{Binary: binary}
}

var _ vmm.Driver = (*Driver)(nil)

// Name returns "firecracker".
func (d *Driver) Name() string { return Name }

// Start spawns firecracker in its own session, configures the microVM over
// the API and starts it. The guest console goes to spec.ConsoleLog (the
// process's stdout).
func (d *Driver) Start(ctx context.Context, spec vmm.Spec) (vmm.Handle, error) {
	h, err := d.start(ctx, spec)
	if err != nil {
		return vmm.Handle{}, fmt.Errorf("start vm %s: %w", spec.Name, err)
	}
	return h, nil
}

func (d *Driver) start(ctx context.Context, spec vmm.Spec) (vmm.Handle, error) {
	bin := d.Binary
	if bin == "" {
		bin = "firecracker"
	}
	binPath, err := exec.LookPath(bin)
	if err != nil {
		return vmm.Handle{}, fmt.Errorf("firecracker binary %q not found: install firecracker and set firecracker_bin, or set vmm = \"qemu\"", bin)
	}
	if !d.skipKVMCheck {
		if ok, why := vmm.KVMUsable(); !ok {
			return vmm.Handle{}, fmt.Errorf("firecracker needs KVM: %s: set vmm = \"qemu\"", why)
		}
	}
	if err := validate(spec); err != nil {
		return vmm.Handle{}, err
	}
	if err := CheckKernel(spec.Kernel); err != nil {
		return vmm.Handle{}, err
	}
	dir, err := filepath.Abs(spec.Dir)
	if err != nil {
		return vmm.Handle{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return vmm.Handle{}, err
	}
	sock, vsock, logPath, err := prepareDir(dir, spec)
	if err != nil {
		return vmm.Handle{}, err
	}
	stderrPath := filepath.Join(dir, StderrFileName)
	console := spec.ConsoleLog
	if console == "" {
		console = os.DevNull
	}
	var consoleOffset int64
	if fi, err := os.Stat(console); err == nil && fi.Mode().IsRegular() {
		consoleOffset = fi.Size()
	}
	proc, err := detach.Start(detach.Cmd{
		Args:   []string{binPath, "--api-sock", sock, "--log-path", logPath, "--level", LogLevel, "--show-level"},
		Dir:    dir,
		Stdout: console,
		Stderr: stderrPath,
	})
	if err != nil {
		return vmm.Handle{}, err
	}
	h := vmm.Handle{Driver: Name, PID: proc.PID, StartTime: proc.StartTime, ControlSocket: sock, Accel: "kvm"}
	if spec.ConsoleLog != "" {
		h.Console, h.ConsoleOffset = spec.ConsoleLog, consoleOffset
	}
	fail := func(err error) (vmm.Handle, error) {
		if detach.SignalProcess(h.PID, h.StartTime, syscall.SIGKILL) == nil {
			select {
			case <-proc.Exited():
			case <-time.After(2 * time.Second):
			}
		}
		if tail := detach.TailFile(stderrPath, 2048); tail != "" {
			err = fmt.Errorf("%w; firecracker stderr: %s", err, tail)
		}
		if tail := detach.TailFile(logPath, 2048); tail != "" {
			err = fmt.Errorf("%w; firecracker log: %s", err, tail)
		}
		return vmm.Handle{}, err
	}
	timeout := d.StartTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	api := newAPIClient(sock)
	if err := waitAPI(wctx, api, proc); err != nil {
		return fail(err)
	}
	if spec.IncomingState != "" {
		if err := loadSnapshot(ctx, api, spec, vsock); err != nil {
			return fail(fmt.Errorf("load saved state: %w", err))
		}
		return h, nil
	}
	if err := configure(ctx, api, spec, vsock); err != nil {
		return fail(err)
	}
	if err := api.put(ctx, "/actions", InstanceActionInfo{ActionType: ActionInstanceStart}); err != nil {
		return fail(err)
	}
	return h, nil
}

// prepareDir checks the socket paths in dir, removes stale sockets and
// starts a fresh log file; it returns the API socket, vsock socket and log
// paths.
func prepareDir(dir string, spec vmm.Spec) (sock, vsock, logPath string, err error) {
	sock = filepath.Join(dir, APISocketName)
	vsock = filepath.Join(dir, VsockSocketName)
	if err := checkSocketPath("API", sock); err != nil {
		return "", "", "", err
	}
	if spec.VsockCID != 0 {
		if err := checkSocketPath("vsock", vsock); err != nil {
			return "", "", "", err
		}
	}
	for _, p := range []string{sock, vsock} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", "", "", fmt.Errorf("remove stale socket: %w", err)
		}
	}
	logPath = filepath.Join(dir, LogFileName)
	if err := freshLog(logPath); err != nil {
		return "", "", "", err
	}
	return sock, vsock, logPath, nil
}

// waitAPI polls GET / until the API answers or the process exits.
func waitAPI(ctx context.Context, api *apiClient, proc *detach.Process) error {
	for {
		var info InstanceInfo
		err := api.get(ctx, "/", &info)
		if err == nil {
			return nil
		}
		select {
		case <-proc.Exited():
			return fmt.Errorf("firecracker exited before its API came up: %v", proc.ExitErr())
		case <-ctx.Done():
			return fmt.Errorf("firecracker API did not come up: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// configure issues the pre-boot API calls for spec. The logger is set on
// the command line (so nothing is logged to the console before it), and
// metrics are not enabled: banger never reads them.
func configure(ctx context.Context, api *apiClient, spec vmm.Spec, vsock string) error {
	if err := api.put(ctx, "/machine-config", MachineConfiguration{VCPUCount: spec.VCPUs, MemSizeMiB: spec.MemoryMiB}); err != nil {
		return err
	}
	if err := api.put(ctx, "/boot-source", BootSource{KernelImagePath: spec.Kernel, BootArgs: BootArgs(spec), InitrdPath: spec.Initrd}); err != nil {
		return err
	}
	for _, dr := range spec.Drives {
		body := Drive{DriveID: dr.ID, PathOnHost: dr.Path, IsRootDevice: dr.Root, IsReadOnly: dr.ReadOnly}
		if err := api.put(ctx, "/drives/"+dr.ID, body); err != nil {
			return err
		}
	}
	if spec.Net != nil {
		body := NetworkInterface{IfaceID: netIfaceID, HostDevName: spec.Net.Tap, GuestMAC: spec.Net.MAC}
		if err := api.put(ctx, "/network-interfaces/"+netIfaceID, body); err != nil {
			return err
		}
	}
	if spec.VsockCID != 0 {
		if err := api.put(ctx, "/vsock", Vsock{GuestCID: spec.VsockCID, UDSPath: vsock}); err != nil {
			return err
		}
	}
	return nil
}

// Shutdown sends Ctrl-Alt-Del to the guest (PUT /actions SendCtrlAltDel);
// with reboot=k the guest's reboot ends the firecracker process. A press
// before the guest's keyboard driver is up is lost (firecracker still
// answers 204), so callers repeat it; a 400 "i8042 internal buffer full"
// means earlier presses were not read yet.
func (d *Driver) Shutdown(ctx context.Context, h vmm.Handle) error {
	if !d.Alive(h) {
		return fmt.Errorf("shut down vm: %w", vmm.ErrNotRunning)
	}
	if err := newAPIClient(h.ControlSocket).put(ctx, "/actions", InstanceActionInfo{ActionType: ActionSendCtrlAltDel}); err != nil {
		return fmt.Errorf("shut down vm: %w", err)
	}
	return nil
}

// GuestStopCommand is the guest command that ends a firecracker VM: on x86
// firecracker has no ACPI power management, so a guest power-off only
// halts the guest and the process stays; a reboot with reboot=k exits it.
func (d *Driver) GuestStopCommand() string { return "systemctl reboot || reboot" }

var _ vmm.GuestStopCommander = (*Driver)(nil)

// Kill sends sig to the firecracker process after checking its start time.
func (d *Driver) Kill(h vmm.Handle, sig syscall.Signal) error {
	return detach.SignalProcess(h.PID, h.StartTime, sig)
}

// Alive reports whether the firecracker process in h still runs. A guest
// that powered itself off (`poweroff` typed in the guest) halts without
// ending the process; Alive then kills the process, whose guest has
// already synced and unmounted its disks, and reports it dead, so a guest
// power-off stops the VM as it does under qemu.
func (d *Driver) Alive(h vmm.Handle) bool {
	if !detach.ProcessAlive(h.PID, h.StartTime) {
		return false
	}
	if !guestHalted(h) {
		return true
	}
	_ = detach.SignalProcess(h.PID, h.StartTime, syscall.SIGKILL)
	for i := 0; i < 100 && detach.ProcessAlive(h.PID, h.StartTime); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	return detach.ProcessAlive(h.PID, h.StartTime)
}

// Info returns GET / (instance id, state, version) of the VM in h.
func Info(ctx context.Context, h vmm.Handle) (InstanceInfo, error) {
	var info InstanceInfo
	err := newAPIClient(h.ControlSocket).get(ctx, "/", &info)
	return info, err
}
