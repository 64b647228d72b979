package daemon

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/units"
)

// deleteVM removes a VM and everything that belongs to it; a running VM is
// refused unless force, in which case it is killed first.
func (d *vms) deleteVM(ctx context.Context, name string, force bool) error {
	unlock := d.vmLock(name)
	defer unlock()
	v, err := d.loadVM(ctx, name)
	if err != nil {
		return err
	}
	op := model.OpDelete
	if force {
		op = model.OpForceDelete
	}
	if err := v.Allows(op); err != nil {
		return err
	}
	if v.State == model.Running {
		h, ok := v.Process()
		if drv, derr := d.driverFor(v); ok && derr == nil && drv.Alive(h) {
			d.monitors.stop(name)
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
	d.guests.unpinHostKey(v)
	return d.store.DeleteVM(ctx, name)
}

// setVM changes resources (only while stopped) and NAT (any time).
func (d *vms) setVM(ctx context.Context, name string, req api.SetVMRequest) (*model.VM, error) {
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
			return nil, model.Invalid("invalid vcpu count 0: use %d to %d", MinVCPUs, MaxVCPUs)
		}
	}
	if req.MemoryMiB != nil {
		mem = *req.MemoryMiB
		if mem == 0 {
			return nil, model.Invalid("invalid memory 0 MiB: use %d to %d MiB", MinMemoryMiB, MaxMemoryMiB)
		}
	}
	if req.DiskSize != nil {
		disk = *req.DiskSize
	}
	if err := validateResources(vc, mem, disk); err != nil {
		return nil, err
	}
	running := v.State == model.Running
	if req.VCPUs != nil || req.MemoryMiB != nil || req.DiskSize != nil {
		if err := v.Allows(model.OpResize); err != nil {
			return nil, err
		}
	}
	if req.NAT != nil {
		if err := v.Allows(model.OpSetNAT); err != nil {
			return nil, err
		}
	}
	if disk != 0 && disk < v.DiskSize {
		return nil, model.Invalid("work disk of %s is %s; shrinking to %s is not supported: choose a size of at least %s", name,
			units.FormatSize(v.DiskSize), units.FormatSize(disk), units.FormatSize(v.DiskSize))
	}
	if disk > v.DiskSize {
		if err := d.checks.preflightResize(); err != nil {
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
				if err := d.checks.preflightNAT(); err != nil {
					return nil, err
				}
				if err := d.res.addNAT(ctx, v); err != nil {
					return nil, fmt.Errorf("enable nat for %s: %w", name, err)
				}
			} else if err := d.res.removeNAT(ctx, name); err != nil {
				return nil, fmt.Errorf("disable nat for %s: %w", name, err)
			}
		}
		v.NAT = *req.NAT
	}
	if err := d.store.UpdateVM(ctx, v); err != nil {
		return nil, err
	}
	return v, nil
}
