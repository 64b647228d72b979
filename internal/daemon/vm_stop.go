package daemon

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/vmm"
)

// stopVM powers v off: ask the guest (ACPI / Ctrl-Alt-Del), then SSH
// poweroff, then kill after stop_timeout. Host resources are released and
// the disks kept.
func (d *vms) stopVM(ctx context.Context, name string, rep api.Reporter) (*model.VM, error) {
	unlock := d.vmLock(name)
	defer unlock()
	v, err := d.loadVM(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := v.Allows(model.OpStop); err != nil {
		return nil, err
	}
	rep.Step(1, 1, "stopping "+name)
	if err := d.powerOff(ctx, v, rep); err != nil {
		return nil, err
	}
	return v, nil
}

// powerOff shuts v down and releases its runtime resources: the power
// button (re-pressed every few seconds: a press before the guest listens is
// lost), the driver's guest stop command (poweroff; reboot for firecracker) over SSH after a short grace, and SIGKILL at
// stop_timeout.
func (d *vms) powerOff(ctx context.Context, v *model.VM, rep api.Reporter) error {
	h, ok := v.Process()
	drv, derr := d.driverFor(v)
	if ok && derr == nil && drv.Alive(h) {
		d.monitors.stop(v.Name)
		if !d.gracefulStop(ctx, v, drv, h, rep) {
			rep.Logf("guest did not power off within %s; killing the VMM", d.cfg.StopTimeout)
			_ = drv.Kill(h, syscall.SIGKILL)
			if !waitExit(drv, h, 10*time.Second) {
				return fmt.Errorf("stop %s: VMM process %d survived SIGKILL; check it with ps", v.Name, h.PID)
			}
		}
	}
	return d.markStopped(ctx, v, "")
}

// sshGrace is how long the power button alone gets before banger also asks
// the guest over SSH.
const sshGrace = 3 * time.Second

// earlyStopWindow is how long after a start that waited for SSH the
// guest's logind, which handles the power button, may not listen yet: it
// starts with the rest of boot once the host has verified SSH
// (banger-hold.service, docs/guest-contract.md). A stop in that window asks
// over SSH at once rather than after sshGrace.
const earlyStopWindow = 5 * time.Second

// stopGrace is how long the power button alone gets before a stop of v
// that starts at now also asks the guest over SSH.
func stopGrace(v *model.VM, now time.Time) time.Duration {
	t := v.BootTimings
	if t == nil || (t.Signal != signalConsole && t.Signal != signalPoll) || v.StartedAt.IsZero() {
		return sshGrace // not a fresh boot (or a resumed guest: logind runs)
	}
	ready := v.StartedAt.Add(time.Duration(t.GuestMS+t.ReadyMS-t.VMMStartMS) * time.Millisecond)
	if now.Sub(ready) < earlyStopWindow {
		return 0
	}
	return sshGrace
}

// guestCommand runs a shell command in v's guest for the stop fallback;
// unit tests replace it to play a guest without SSH.
var guestCommand = (*guests).sshRun

// gracefulStop asks the guest to power off and reports whether the VMM
// exited within stop_timeout.
func (d *vms) gracefulStop(ctx context.Context, v *model.VM, drv vmm.Driver, h vmm.Handle, rep api.Reporter) bool {
	start := time.Now()
	deadline := start.Add(d.cfg.StopTimeout)
	grace := stopGrace(v, start)
	lastPress := time.Time{}
	sshAsked := false
	for time.Now().Before(deadline) {
		if time.Since(lastPress) >= 5*time.Second {
			if err := drv.Shutdown(ctx, h); err != nil {
				d.log.Debug("vmm shutdown request failed", "vm", v.Name, "err", err)
			}
			lastPress = time.Now()
		}
		if !sshAsked && time.Since(start) >= grace {
			sshAsked = true
			rep.Logf("asking the guest to power off over SSH")
			go func() {
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_, _ = guestCommand(d.guests, sctx, v, vmm.GuestStopCommand(drv))
			}()
		}
		if waitExit(drv, h, 250*time.Millisecond) {
			return true
		}
	}
	return false
}

// markStopped releases the runtime resources of a VM whose process is gone
// (tap, NAT, overlay device, DNS, monitor) and the spent state its VMM
// mapped, and records it as stopped (with reason as last error when
// non-empty). Its disks are kept.
func (d *vms) markStopped(ctx context.Context, v *model.VM, reason string) error {
	d.res.detachResources(ctx, v)
	if v.SavedState == nil {
		// What is left in the state directory is a spent state the VMM
		// kept mapped (see resumeVM); the VMM is gone now.
		removeSpentState(d, v, stateDir(v))
	}
	v.State, v.Handle = model.Stopped, nil
	if reason != "" {
		v.LastError = reason
	}
	return d.store.UpdateVM(ctx, v)
}

// killVM sends a signal to the VMM process.
func (d *vms) killVM(ctx context.Context, name, sigName string) (*model.VM, error) {
	sig, err := parseSignal(sigName)
	if err != nil {
		return nil, err
	}
	unlock := d.vmLock(name)
	defer unlock()
	v, err := d.loadVM(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := v.Allows(model.OpKill); err != nil {
		return nil, err
	}
	drv, h, err := d.liveVMM(v)
	if err != nil {
		return nil, err
	}
	if err := drv.Kill(h, sig); err != nil {
		return nil, fmt.Errorf("signal %s: %w", name, err)
	}
	if sig == syscall.SIGKILL || sig == syscall.SIGTERM {
		if waitExit(drv, h, 10*time.Second) {
			if err := d.markStopped(ctx, v, "killed with "+sigName); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

var signalNames = map[string]syscall.Signal{
	"KILL": syscall.SIGKILL, "TERM": syscall.SIGTERM, "INT": syscall.SIGINT, "HUP": syscall.SIGHUP,
	"QUIT": syscall.SIGQUIT, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2,
	"STOP": syscall.SIGSTOP, "CONT": syscall.SIGCONT,
}

// parseSignal accepts KILL, SIGKILL, kill or 9.
func parseSignal(s string) (syscall.Signal, error) {
	if s == "" {
		return syscall.SIGKILL, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
		return syscall.Signal(n), nil
	}
	up := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	if sig, ok := signalNames[up]; ok {
		return sig, nil
	}
	return 0, model.Invalid("unknown signal %q: use KILL, TERM, INT, HUP, QUIT, USR1, USR2, STOP, CONT or a number", s)
}

// vmExited is the monitors' answer to a VMM that exited on its own (guest
// poweroff, VMM crash, external kill): the VM is marked stopped and its
// host resources released, unless the monitor was stopped meanwhile (by
// an operation that ended the VMM itself).
func (d *vms) vmExited(ctx context.Context, name string, h vmm.Handle) {
	unlock := d.vmLock(name)
	defer unlock()
	if ctx.Err() != nil {
		return
	}
	if v, err := d.store.GetVM(context.Background(), name); err == nil && v.State == model.Running {
		d.log.Info("vm process exited; marking it stopped", "vm", name, "pid", h.PID)
		_ = d.markStopped(context.Background(), v, "")
	}
}
