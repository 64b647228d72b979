// Package qemu is the vmm driver for qemu-system-x86_64 on the microvm
// machine: virtio-mmio devices, a QMP socket for control, KVM when usable
// and TCG otherwise. qemu daemonizes itself, so the VM outlives the daemon.
//
// Measured with qemu 7.2 (Debian 12) and 6.1 guest kernels:
//   - Guest disk order equals command-line order, both with ACPI device
//     discovery (acpi=on) and with virtio_mmio.device= on the kernel command
//     line (acpi=off): Drives[0] is /dev/vda.
//   - acpi=on gives the guest a power button (QMP system_powerdown). The
//     guest acts on it only with CONFIG_ACPI_BUTTON and CONFIG_INPUT_EVDEV
//     (systemd-logind reads the key from /dev/input) or acpid.
//   - Under TCG with acpi=on a guest whose PIT-based TSC calibration fails
//     (likely on a busy host) receives no timer interrupts and hangs in
//     early boot; tsc_early_khz on the command line avoids it.
package qemu

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bangerdev/banger/internal/detach"
	"github.com/bangerdev/banger/internal/execx"
	"github.com/bangerdev/banger/internal/vmm"
)

// Name is the driver name stored in handles.
const Name = vmm.DriverQEMU

// File names inside Spec.Dir.
const (
	QMPSocketName = "qmp.sock"
	PIDFileName   = "qemu.pid"
)

// Driver implements vmm.Driver with qemu.
type Driver struct {
	// Binary is the qemu program (default "qemu-system-x86_64").
	Binary string
	// Accel forces "kvm" or "tcg"; empty chooses with vmm.KVMUsable.
	Accel string
	// StartTimeout bounds how long Start waits for QMP (default 30 s).
	StartTimeout time.Duration
	// TBSizeMiB is the TCG translation cache (0: DefaultTBSizeMiB).
	TBSizeMiB int

	tcgOnce sync.Once
}

// New returns a driver using binary ("" for qemu-system-x86_64 from PATH).
func New(binary string) *Driver {
	return &Driver{Binary: binary}
}

var _ vmm.Driver = (*Driver)(nil)

// Name returns "qemu".
func (d *Driver) Name() string { return Name }

func (d *Driver) binary() string {
	if d.Binary == "" {
		return "qemu-system-x86_64"
	}
	return d.Binary
}

// accel picks the accelerator and logs once per driver when TCG is used.
func (d *Driver) accel() string {
	if d.Accel != "" {
		return d.Accel
	}
	if ok, why := vmm.KVMUsable(); !ok {
		d.tcgOnce.Do(func() {
			slog.Warn("qemu runs guests without KVM (TCG emulation): boots and builds will be slow", "reason", why)
		})
		return "tcg"
	}
	return "kvm"
}

// Start boots spec with qemu -daemonize and returns once QMP answers and the
// guest runs. Startup errors qemu prints before detaching are in the error.
func (d *Driver) Start(ctx context.Context, spec vmm.Spec) (vmm.Handle, error) {
	if !execx.Have(d.binary()) {
		return vmm.Handle{}, fmt.Errorf("start vm %s: %s not found: install qemu-system-x86 (Debian) or qemu-system-x86-core (Fedora)", spec.Name, d.binary())
	}
	if spec.Dir == "" {
		return vmm.Handle{}, fmt.Errorf("start vm %s: no runtime directory given", spec.Name)
	}
	dir, err := filepath.Abs(spec.Dir)
	if err != nil {
		return vmm.Handle{}, fmt.Errorf("start vm %s: %w", spec.Name, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return vmm.Handle{}, fmt.Errorf("start vm %s: %w", spec.Name, err)
	}
	qmpPath := filepath.Join(dir, QMPSocketName)
	if len(qmpPath) >= 108 {
		return vmm.Handle{}, fmt.Errorf("start vm %s: qmp socket path %s is longer than a unix socket allows: use a shorter runtime directory", spec.Name, qmpPath)
	}
	pidPath := filepath.Join(dir, PIDFileName)
	for _, p := range []string{qmpPath, pidPath} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return vmm.Handle{}, fmt.Errorf("start vm %s: remove stale %s: %w", spec.Name, p, err)
		}
	}
	caps, err := Probe(ctx, d.binary())
	if err != nil {
		return vmm.Handle{}, err
	}
	accel := d.accel()
	if spec.VsockCID != 0 {
		if _, err := os.Stat("/dev/vhost-vsock"); err != nil {
			return vmm.Handle{}, fmt.Errorf("start vm %s: vsock needs /dev/vhost-vsock: run modprobe vhost_vsock", spec.Name)
		}
	}
	args, err := BuildArgs(spec, ArgsOptions{
		Accel:     accel,
		Caps:      caps,
		QMPSocket: qmpPath,
		PIDFile:   pidPath,
		VhostNet:  accel == "kvm" && spec.Net != nil && canOpen("/dev/vhost-net"),
		Daemonize: true,
		TSCkHz:    vmm.HostCPUkHz(),
		TBSizeMiB: cmp.Or(d.TBSizeMiB, DefaultTBSizeMiB),
	})
	if err != nil {
		return vmm.Handle{}, fmt.Errorf("start vm %s: %w", spec.Name, err)
	}
	timeout := d.StartTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
		if spec.IncomingState != "" {
			timeout = 3 * time.Minute // reading guest memory back
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// With -daemonize the foreground qemu exits once the VM is set up, after
	// reporting any setup error on stderr, which execx folds into err.
	if _, err := execx.Run(ctx, execx.Cmd{Args: append([]string{d.binary()}, args...)}); err != nil {
		killFromPIDFile(pidPath)
		return vmm.Handle{}, fmt.Errorf("start vm %s: %w", spec.Name, err)
	}
	if spec.IncomingState != "" {
		if err := loadState(ctx, qmpPath, spec.IncomingState); err != nil {
			killFromPIDFile(pidPath)
			return vmm.Handle{}, fmt.Errorf("start vm %s: load saved state: %w", spec.Name, err)
		}
	}
	h, err := d.adopt(ctx, pidPath, qmpPath, accel)
	if err != nil {
		if h.PID != 0 {
			_ = detach.SignalProcess(h.PID, h.StartTime, syscall.SIGKILL)
		}
		return vmm.Handle{}, fmt.Errorf("start vm %s: %w", spec.Name, err)
	}
	return h, nil
}

// adopt reads the pidfile and waits until QMP reports a running guest.
func (d *Driver) adopt(ctx context.Context, pidPath, qmpPath, accel string) (vmm.Handle, error) {
	b, err := os.ReadFile(pidPath)
	if err != nil {
		return vmm.Handle{}, fmt.Errorf("read qemu pidfile: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return vmm.Handle{}, fmt.Errorf("read qemu pidfile %s: bad pid %q", pidPath, strings.TrimSpace(string(b)))
	}
	st, err := detach.ProcStartTime(pid)
	if err != nil {
		return vmm.Handle{}, fmt.Errorf("qemu exited right after starting: %w", err)
	}
	h := vmm.Handle{Driver: Name, PID: pid, StartTime: st, ControlSocket: qmpPath, Accel: accel}
	for {
		status, err := d.status(ctx, qmpPath)
		if err == nil && status.Running {
			return h, nil
		}
		if !detach.ProcessAlive(pid, st) {
			return h, errors.New("qemu exited while starting")
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("guest state is %q", status.Status)
			}
			return h, fmt.Errorf("qemu did not report a running guest in time: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (d *Driver) status(ctx context.Context, qmpPath string) (statusInfo, error) {
	c, err := DialQMP(ctx, qmpPath)
	if err != nil {
		return statusInfo{}, err
	}
	defer c.Close()
	var si statusInfo
	err = c.Execute(ctx, "query-status", nil, &si)
	return si, err
}

// Shutdown presses the guest's ACPI power button (QMP system_powerdown). It
// does not wait for the guest to power off.
func (d *Driver) Shutdown(ctx context.Context, h vmm.Handle) error {
	if !d.Alive(h) {
		return fmt.Errorf("shut down vm: %w", vmm.ErrNotRunning)
	}
	c, err := DialQMP(ctx, h.ControlSocket)
	if err != nil {
		return fmt.Errorf("shut down vm: %w", err)
	}
	defer c.Close()
	if err := c.Execute(ctx, "system_powerdown", nil, nil); err != nil {
		return fmt.Errorf("shut down vm: %w", err)
	}
	return nil
}

// Kill sends sig to the qemu process after checking its start time.
func (d *Driver) Kill(h vmm.Handle, sig syscall.Signal) error {
	return detach.SignalProcess(h.PID, h.StartTime, sig)
}

// Alive reports whether the qemu process in h still runs.
func (d *Driver) Alive(h vmm.Handle) bool {
	return detach.ProcessAlive(h.PID, h.StartTime)
}

func canOpen(path string) bool {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// killFromPIDFile kills a daemonized qemu whose foreground parent failed
// (for example killed by the context deadline after the fork), so a failed
// Start leaves no VM behind.
func killFromPIDFile(pidPath string) {
	b, err := os.ReadFile(pidPath)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return
	}
	if st, err := detach.ProcStartTime(pid); err == nil {
		_ = detach.SignalProcess(pid, st, syscall.SIGKILL)
	}
	os.Remove(pidPath)
}
