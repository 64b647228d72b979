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
	"strings"
	"syscall"
	"time"

	"github.com/bangerdev/banger/internal/vmm"
)

// Name is the driver name stored in handles.
const Name = vmm.DriverFirecracker

// File names inside Spec.Dir.
const (
	APISocketName   = "firecracker.sock"
	VsockSocketName = "vsock.sock"
	LogFileName     = "firecracker.log"
	MetricsFileName = "firecracker.metrics"
	StderrFileName  = "firecracker.stderr"
)

// baseBootArgs precede Spec.Cmdline. reboot=k makes a guest reboot go
// through the i8042 keyboard controller, which firecracker turns into a
// clean exit; panic=1 reboots (and so exits) a second after a panic.
const baseBootArgs = "console=ttyS0 reboot=k panic=1 pci=off"

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
	sock := filepath.Join(dir, APISocketName)
	vsock := filepath.Join(dir, VsockSocketName)
	if len(vsock) >= 108 {
		return vmm.Handle{}, fmt.Errorf("socket path %s is longer than a unix socket allows: use a shorter runtime directory", vsock)
	}
	for _, p := range []string{sock, vsock} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return vmm.Handle{}, fmt.Errorf("remove stale socket: %w", err)
		}
	}
	// Older firecracker releases open (not create) the log and metrics
	// files, so make sure they exist.
	logPath, metricsPath := filepath.Join(dir, LogFileName), filepath.Join(dir, MetricsFileName)
	for _, p := range []string{logPath, metricsPath} {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
		if err != nil {
			return vmm.Handle{}, fmt.Errorf("create firecracker log file: %w", err)
		}
		f.Close()
	}
	stderrPath := filepath.Join(dir, StderrFileName)
	console := spec.ConsoleLog
	if console == "" {
		console = os.DevNull
	}
	proc, err := vmm.StartDetached(vmm.DetachedCmd{
		Args:   []string{binPath, "--api-sock", sock},
		Dir:    dir,
		Stdout: console,
		Stderr: stderrPath,
	})
	if err != nil {
		return vmm.Handle{}, err
	}
	h := vmm.Handle{Driver: Name, PID: proc.PID, StartTime: proc.StartTime, ControlSocket: sock, Accel: "kvm"}
	fail := func(err error) (vmm.Handle, error) {
		if vmm.SignalProcess(h.PID, h.StartTime, syscall.SIGKILL) == nil {
			select {
			case <-proc.Exited():
			case <-time.After(2 * time.Second):
			}
		}
		if tail := vmm.TailFile(stderrPath, 2048); tail != "" {
			err = fmt.Errorf("%w; firecracker stderr: %s", err, tail)
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
		if err := loadSnapshot(ctx, api, spec, logPath, metricsPath); err != nil {
			return fail(fmt.Errorf("load saved state: %w", err))
		}
		return h, nil
	}
	if err := configure(ctx, api, spec, logPath, metricsPath, vsock); err != nil {
		return fail(err)
	}
	if err := api.put(ctx, "/actions", InstanceActionInfo{ActionType: ActionInstanceStart}); err != nil {
		return fail(err)
	}
	return h, nil
}

// waitAPI polls GET / until the API answers or the process exits.
func waitAPI(ctx context.Context, api *apiClient, proc *vmm.Process) error {
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

// configure issues the pre-boot API calls for spec.
func configure(ctx context.Context, api *apiClient, spec vmm.Spec, logPath, metricsPath, vsock string) error {
	if err := api.put(ctx, "/logger", Logger{LogPath: logPath, Level: "Warning", ShowLevel: true}); err != nil {
		return err
	}
	if err := api.put(ctx, "/metrics", Metrics{MetricsPath: metricsPath}); err != nil {
		return err
	}
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
		body := NetworkInterface{IfaceID: "eth0", HostDevName: spec.Net.Tap, GuestMAC: spec.Net.MAC}
		if err := api.put(ctx, "/network-interfaces/eth0", body); err != nil {
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

// BootArgs returns the kernel command line firecracker gets; firecracker
// itself appends root= for the root drive.
func BootArgs(spec vmm.Spec) string {
	if c := strings.TrimSpace(spec.Cmdline); c != "" {
		return baseBootArgs + " " + c
	}
	return baseBootArgs
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
		if dr.ID == "" || strings.ContainsAny(dr.ID, "/?#% ") {
			return fmt.Errorf("drive %d: invalid id %q", i, dr.ID)
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
	return nil
}

// Shutdown sends Ctrl-Alt-Del to the guest (PUT /actions SendCtrlAltDel);
// with reboot=k the guest's reboot ends the firecracker process.
func (d *Driver) Shutdown(ctx context.Context, h vmm.Handle) error {
	if !d.Alive(h) {
		return fmt.Errorf("shut down vm: %w", vmm.ErrNotRunning)
	}
	if err := newAPIClient(h.ControlSocket).put(ctx, "/actions", InstanceActionInfo{ActionType: ActionSendCtrlAltDel}); err != nil {
		return fmt.Errorf("shut down vm: %w", err)
	}
	return nil
}

// Kill sends sig to the firecracker process after checking its start time.
func (d *Driver) Kill(h vmm.Handle, sig syscall.Signal) error {
	return vmm.SignalProcess(h.PID, h.StartTime, sig)
}

// Alive reports whether the firecracker process in h still runs.
func (d *Driver) Alive(h vmm.Handle) bool {
	return vmm.ProcessAlive(h.PID, h.StartTime)
}

// Info returns GET / (instance id, state, version) of the VM in h.
func Info(ctx context.Context, h vmm.Handle) (InstanceInfo, error) {
	var info InstanceInfo
	err := newAPIClient(h.ControlSocket).get(ctx, "/", &info)
	return info, err
}
