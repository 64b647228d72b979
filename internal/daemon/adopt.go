package daemon

import (
	"context"
	"net/netip"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/nat"
	"github.com/bangerdev/banger/internal/network"
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
	outIface, routeErr := network.DefaultRouteInterface()
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
			d.log.Info("vm process is gone; marking it stopped", "vm", v.Name)
			if err := d.markStopped(ctx, v, "VMM process exited while bangerd was not running"); err != nil {
				d.log.Error("mark stopped", "vm", v.Name, "err", err)
			}
			continue
		}
		d.log.Info("re-adopting running VM", "vm", v.Name, "pid", h.PID)
		if err := d.net.CreateTap(ctx, v.Tap, d.cfg.BridgeName); err != nil {
			d.log.Warn("restore tap", "vm", v.Name, "err", err)
		}
		d.publishDNS(v)
		d.startMonitor(v.Name, h)
		if v.NAT && routeErr == nil {
			if ip, err := netip.ParseAddr(v.IP); err == nil {
				wantNAT = append(wantNAT, nat.Rule{Name: v.Name, IP: ip, Tap: v.Tap, OutIface: outIface})
			}
		}
	}
	if d.fw != nil {
		if len(wantNAT) > 0 {
			if err := nat.EnableForwarding(); err != nil {
				d.log.Warn("enable forwarding", "err", err)
			}
		}
		if err := d.fw.Sync(ctx, wantNAT); err != nil {
			d.log.Warn("sync nat rules", "err", err)
		}
	}
}
