package daemon

import (
	"context"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/nat"
)

// adopt reconciles the database with the host after a daemon start: VMs
// whose VMM process still runs are re-adopted (monitor, tap, DNS, NAT
// restored); VMs whose process died (crash, host reboot) are marked stopped
// with their disks kept; half-created VMs are removed; NAT rules of VMs that
// no longer need them are dropped.
func (d *Daemon) adopt(ctx context.Context) {
	vms, err := d.store.ListVMs(ctx)
	if err != nil {
		d.log.Error("list VMs for adoption", "err", err)
		return
	}
	d.ensureFirewallBase(ctx)
	var wantNAT []nat.Rule
	for _, v := range vms {
		switch v.State {
		case api.StateCreating:
			d.log.Warn("removing VM left half-created by a previous daemon", "vm", v.Name)
			if err := d.deleteVM(ctx, v.Name, true); err != nil {
				d.log.Error("remove half-created VM", "vm", v.Name, "err", err)
			}
			continue
		case api.StateRunning:
		default:
			continue
		}
		h, ok := handleOf(v)
		drv, derr := d.driverFor(v)
		if !ok || derr != nil || !drv.Alive(h) {
			if d.adoptSavedState(ctx, v) {
				continue
			}
			d.log.Info("vm process is gone; marking it stopped", "vm", v.Name)
			if err := d.markStopped(ctx, v, "VMM process exited while bangerd was not running"); err != nil {
				d.log.Error("mark stopped", "vm", v.Name, "err", err)
			}
			continue
		}
		d.log.Info("re-adopting running VM", "vm", v.Name, "pid", h.PID)
		a := &attachment{v: v, adopt: true, wantNAT: &wantNAT}
		_ = d.attachResources(ctx, a, false, nil)
		_ = d.attachResources(ctx, a, true, nil)
	}
	if d.fw != nil {
		if len(wantNAT) > 0 {
			if err := d.host.EnableForwarding(); err != nil {
				d.log.Warn("enable forwarding", "err", err)
			}
		}
		if err := d.fw.Sync(ctx, wantNAT); err != nil {
			d.log.Warn("sync nat rules", "err", err)
		}
	}
	if d.cfg.ResumeOnStart {
		d.resumeWG.Add(1)
		go func() {
			defer d.resumeWG.Done()
			d.resumeRecorded(ctx, vms, true)
		}()
	}
}
