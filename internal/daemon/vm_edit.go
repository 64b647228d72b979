package daemon

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/units"
)

// deleteVM removes a VM and everything that belongs to it; a running VM is
// refused unless force, in which case it is killed first.
func (d *Daemon) deleteVM(ctx context.Context, name string, force bool) error {
	unlock := d.vmLock(name)
	defer unlock()
	v, err := d.loadVM(ctx, name)
	if err != nil {
		return err
	}
	if v.State == api.StateRunning {
		if !force {
			return conflict("%s is running; stop it first with 'banger vm stop %s' or pass --force", name, name)
		}
		h, ok := handleOf(v)
		if drv, derr := d.driverFor(v); ok && derr == nil && drv.Alive(h) {
			d.stopMonitor(name)
			_ = drv.Kill(h, 9)
			if !waitExit(drv, h, 10*time.Second) {
				return fmt.Errorf("delete %s: VMM process %d survived SIGKILL; check it with ps", name, h.PID)
			}
		}
	}
	if err := d.markStopped(ctx, v, ""); err != nil {
		return err
	}
	if v.OverlayPath != "" {
		if err := d.storage.RemoveOverlay(ctx, overlayOf(v)); err != nil {
			return fmt.Errorf("delete %s: remove overlay: %w; retry 'banger vm delete %s'", name, err, name)
		}
	}
	if err := d.storage.RemoveImage(v.WorkDisk); err != nil {
		return fmt.Errorf("delete %s: remove work disk: %w; retry 'banger vm delete %s'", name, err, name)
	}
	if err := os.RemoveAll(v.Dir); err != nil {
		return fmt.Errorf("delete %s: remove %s: %w", name, v.Dir, err)
	}
	d.unpinHostKey(v)
	return d.store.DeleteVM(ctx, name)
}

// setVM changes resources (only while stopped) and NAT (any time).
func (d *Daemon) setVM(ctx context.Context, name string, req api.SetVMRequest) (*api.VM, error) {
	unlock := d.vmLock(name)
	defer unlock()
	v, err := d.loadVM(ctx, name)
	if err != nil {
		return nil, err
	}
	var vc, mem int
	var disk int64
	if req.VCPUs != nil {
		vc = *req.VCPUs
		if vc == 0 {
			return nil, badRequest("invalid vcpu count 0: use %d to %d", MinVCPUs, MaxVCPUs)
		}
	}
	if req.MemoryMiB != nil {
		mem = *req.MemoryMiB
		if mem == 0 {
			return nil, badRequest("invalid memory 0 MiB: use %d to %d MiB", MinMemoryMiB, MaxMemoryMiB)
		}
	}
	if req.DiskSize != nil {
		disk = *req.DiskSize
	}
	if err := validateResources(vc, mem, disk); err != nil {
		return nil, err
	}
	running := v.State == api.StateRunning
	if v.State == api.StateSuspended && (req.VCPUs != nil || req.MemoryMiB != nil || req.DiskSize != nil) {
		return nil, conflict("%s is suspended: its saved state is for %d vCPUs, %d MiB and the current disks, so memory, vcpu and disk size cannot change; resume and stop it first, or discard the state with 'banger vm start --cold %s'", name, v.VCPUs, v.MemoryMiB, name)
	}
	if running && (req.VCPUs != nil || req.MemoryMiB != nil || req.DiskSize != nil) {
		return nil, conflict("%s is running: memory, vcpu and disk size can only change while it is stopped; run 'banger vm stop %s' first (--nat/--no-nat work while running)", name, name)
	}
	if disk != 0 && disk < v.DiskSize {
		return nil, badRequest("work disk of %s is %s; shrinking to %s is not supported: choose a size of at least %s", name,
			units.FormatSize(v.DiskSize), units.FormatSize(disk), units.FormatSize(v.DiskSize))
	}
	if disk > v.DiskSize {
		if err := d.preflightResize(); err != nil {
			return nil, err
		}
		if err := d.storage.GrowWorkDisk(ctx, v.WorkDisk, disk); err != nil {
			return nil, fmt.Errorf("grow work disk of %s: %w", name, err)
		}
		v.DiskSize = disk
	}
	if vc != 0 {
		v.VCPUs = vc
	}
	if mem != 0 {
		v.MemoryMiB = mem
	}
	if req.NAT != nil && *req.NAT != v.NAT {
		if running {
			if *req.NAT {
				if err := d.preflightNAT(); err != nil {
					return nil, err
				}
				if err := d.addNAT(ctx, v); err != nil {
					return nil, fmt.Errorf("enable nat for %s: %w", name, err)
				}
			} else if err := d.removeNAT(ctx, name); err != nil {
				return nil, fmt.Errorf("disable nat for %s: %w", name, err)
			}
		}
		v.NAT = *req.NAT
	}
	if err := d.store.UpdateVM(ctx, v); err != nil {
		return nil, err
	}
	out := d.toAPI(v)
	return &out, nil
}
