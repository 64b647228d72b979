package daemon

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/network"
	"github.com/bangerdev/banger/internal/steps"
	"github.com/bangerdev/banger/internal/vmm"
)

// sshReadyTimeout bounds the wait for a passing SSH probe (sshclient.Probe).
const sshReadyTimeout = 5 * time.Minute

// kernelCmdline is the per-VM part of the kernel command line (see
// docs/guest-contract.md).
func (d *vms) kernelCmdline(v *model.VM) string {
	gw := network.Gateway(d.subnet)
	return fmt.Sprintf("banger.name=%s banger.ip=%s/%d banger.gw=%s banger.dns=%s",
		v.Name, v.IP, d.subnet.Bits(), gw, gw)
}

// spec builds the VMM spec for v.
func (d *vms) spec(v *model.VM) vmm.Spec {
	kernel := v.Kernel
	return vmm.Spec{
		Name: v.Name, Dir: v.Dir, Kernel: kernel, Initrd: v.Initrd, Cmdline: d.kernelCmdline(v),
		VCPUs: v.VCPUs, MemoryMiB: v.MemoryMiB,
		Drives: []vmm.Drive{
			{ID: "rootfs", Path: overlayDiskPath(v), Format: v.OverlayFormat, Root: true},
			{ID: "work", Path: v.WorkDisk, Format: "raw"},
		},
		Net:        &vmm.NetIface{Tap: v.Tap, MAC: v.MAC},
		ConsoleLog: v.ConsoleLog(),
	}
}

func overlayDiskPath(v *model.VM) string {
	if v.OverlayDevice != "" {
		return v.OverlayDevice
	}
	return v.OverlayPath
}

// waitExit polls until h is gone or limit passes.
func waitExit(drv vmm.Driver, h vmm.Handle, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if !drv.Alive(h) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return !drv.Alive(h)
}

// consoleTail returns the last n lines of the console log.
func consoleTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no console output: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// startVM boots a stopped VM or resumes a suspended one (cold: discard the
// saved state and boot).
func (d *vms) startVM(ctx context.Context, name string, wait, cold bool, rep api.Reporter) (*model.VM, error) {
	run := steps.New(rep)
	unlock := d.vmLock(name)
	defer unlock()
	v, err := d.loadVM(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := v.Allows(model.OpStart); err != nil {
		return nil, err
	}
	if v.State == model.Suspended {
		if !cold {
			return d.resumeVM(ctx, v, wait, run, rep)
		}
		if err := d.discardState(ctx, v); err != nil {
			return nil, err
		}
		rep.Logf("discarded the saved state of %s; booting it afresh", name)
	}
	if err := d.checks.preflightStart(v.Kernel, v.BaseImage, v.NAT); err != nil {
		return nil, err
	}
	b, err := d.newBoot(v, run, rep, wait, "")
	if err != nil {
		return nil, err
	}
	run.Lap("preflight")
	if err := run.Run(ctx, b.steps()...); err != nil {
		// The boot's undo left it stopped; say why (there is no error state).
		v.LastError = err.Error()
		if uerr := d.store.UpdateVM(context.Background(), v); uerr != nil {
			d.log.Error("record failed start", "vm", v.Name, "err", uerr)
		}
		return nil, err
	}
	return v, nil
}
