package daemon

import (
	"context"
	"slices"
	"syscall"
	"time"

	"github.com/bangerdev/banger/internal/detach"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/nat"
)

// adopt reconciles the database with the host after a daemon start: VMs
// whose VMM process still runs are re-adopted (monitor, tap, DNS, NAT
// restored); VMs whose process died (crash, host reboot) are marked stopped
// with their disks kept; half-created VMs are removed; NAT rules of VMs that
// no longer need them are dropped.
func (d *vms) adopt(ctx context.Context) {
	vms, err := d.store.ListVMs(ctx)
	if err != nil {
		d.log.Error("list VMs for adoption", "err", err)
		return
	}
	d.res.ensureFirewallBase(ctx)
	d.reapInterruptedStarts(ctx, vms)
	var wantNAT []nat.Rule
	for _, v := range vms {
		switch v.State {
		case model.Creating:
			d.log.Warn("removing VM left half-created by a previous daemon", "vm", v.Name)
			if err := d.deleteVM(ctx, v.Name, true); err != nil {
				d.log.Error("remove half-created VM", "vm", v.Name, "err", err)
			}
			continue
		case model.Running:
		default:
			continue
		}
		h, ok := v.Process()
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
		d.res.reattach(ctx, a)
	}
	if d.res.fw != nil {
		if len(wantNAT) > 0 {
			if err := d.host.EnableForwarding(); err != nil {
				d.log.Warn("enable forwarding", "err", err)
			}
		}
		if err := d.res.fw.Sync(ctx, wantNAT); err != nil {
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

// reapInterruptedStarts undoes starts a daemon crash interrupted. A VM is
// recorded running only once its VMM answered; a daemon killed between
// spawning the VMM and recording it leaves a VMM nobody adopts. Only a VM's
// VMM writes its console log, so a process holding the log of a VM not
// recorded running is such a VMM: it is killed (the start never finished;
// the disks are kept, as after a crash). Such VMs, and VMs not running whose
// tap is still on the bridge (a crash before the VMM started), get their
// host resources (tap, NAT, DNS, overlay) released.
func (d *vms) reapInterruptedStarts(ctx context.Context, vms []*model.VM) {
	byLog := map[string]*model.VM{}
	var logs []string
	for _, v := range vms {
		if v.State == model.Running || v.Dir == "" {
			continue
		}
		byLog[v.ConsoleLog()] = v
		logs = append(logs, v.ConsoleLog())
	}
	if len(logs) == 0 {
		return
	}
	holders := detach.HoldersOf(logs...)
	ports, err := d.res.net.Ports(ctx, d.cfg.BridgeName)
	if err != nil {
		d.log.Debug("list bridge ports", "bridge", d.cfg.BridgeName, "err", err)
	}
	for _, path := range logs {
		v := byLog[path]
		for _, h := range holders[path] {
			d.log.Warn("killing the VMM of a start a daemon crash interrupted", "vm", v.Name, "pid", h.PID)
			if err := detach.SignalProcess(h.PID, h.StartTime, syscall.SIGKILL); err != nil {
				d.log.Error("kill leftover VMM", "vm", v.Name, "pid", h.PID, "err", err)
				continue
			}
			for deadline := time.Now().Add(5 * time.Second); detach.ProcessAlive(h.PID, h.StartTime) && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
		}
		if len(holders[path]) > 0 || (v.Tap != "" && slices.Contains(ports, v.Tap)) {
			d.res.detachResources(ctx, v)
		}
	}
}
