package daemon

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/sshkeys"
	"github.com/bangerdev/banger/internal/steps"
)

// cloneVM makes a new VM from a stopped or suspended VM's disks with a new
// identity: its own name (hostname), address, MAC, tap and SSH host key
// (pinned anew). The clone is cold-booted; the source's saved state is not
// copied, and a suspended source's disks are copied as a crash would have
// left them (ext4's journal makes them consistent at boot).
func (d *vms) cloneVM(ctx context.Context, srcName string, req api.CloneRequest, rep api.Reporter) (*model.VM, error) {
	run := steps.New(rep)
	name, err := d.newVMName(ctx, req.Name)
	if err != nil {
		return nil, err
	}
	req.Name = name
	if req.Name == srcName {
		return nil, model.Invalid("a clone needs a name of its own, not %q", srcName)
	}
	unlockSrc := d.vmLock(srcName)
	defer unlockSrc()
	src, err := d.loadVM(ctx, srcName)
	if err != nil {
		return nil, err
	}
	if err := src.Allows(model.OpClone); err != nil {
		return nil, err
	}
	unlock := d.vmLock(req.Name)
	defer unlock()
	if err := d.nameFree(ctx, req.Name); err != nil {
		return nil, err
	}
	img, err := loadImage(ctx, d.store, src.Image)
	if err != nil {
		return nil, err
	}
	if err := d.checks.preflightStart(src.Kernel, src.BaseImage, req.NAT); err != nil {
		return nil, err
	}

	v := &model.VM{}
	b, err := d.newBoot(v, run, rep, !req.NoWait, "")
	if err != nil {
		return nil, err
	}
	run.Lap("preflight")
	ovPath := ""
	clone := []steps.Step{
		d.reserveStep(v, api.CreateVMRequest{Name: req.Name, VCPUs: src.VCPUs, MemoryMiB: src.MemoryMiB,
			DiskSize: src.DiskSize, NAT: req.NAT}, img),
		{Name: "copy", Label: steps.Fixed("copying the disks of " + srcName), Do: func(ctx context.Context) error {
			ovPath = filepath.Join(v.Dir, filepath.Base(src.OverlayPath))
			method, err := d.storage.CopyDisk(ctx, src.OverlayPath, ovPath, false)
			if err != nil {
				return fmt.Errorf("clone %s: system overlay: %w", srcName, err)
			}
			rep.Logf("disks copied by %s", method)
			return nil
		}, Undo: func() error { return d.storage.RemoveImage(ovPath) }},
		{Name: "copy", Do: func(ctx context.Context) error {
			if _, err := d.storage.CopyDisk(ctx, src.WorkDisk, v.WorkDisk, false); err != nil {
				return fmt.Errorf("clone %s: work disk: %w", srcName, err)
			}
			return nil
		}, Undo: func() error { return d.storage.RemoveImage(v.WorkDisk) }},
		{Name: "identity", Label: func() string { return "giving " + v.Name + " its own SSH host key" }, Do: func(ctx context.Context) error {
			v.OverlayKind, v.OverlayPath, v.OverlayFormat, v.OverlayDevice = src.OverlayKind, ovPath, src.OverlayFormat, ""
			v.Kernel, v.Initrd, v.BaseImage = src.Kernel, src.Initrd, src.BaseImage
			if err := d.newIdentity(ctx, v); err != nil {
				return fmt.Errorf("clone %s: %w", srcName, err)
			}
			v.State = model.Stopped
			return d.store.UpdateVM(ctx, v)
		}},
	}
	if err := run.Run(ctx, append(clone, b.steps()...)...); err != nil {
		return nil, err
	}
	return v, nil
}

// newIdentity writes a fresh SSH host key (and the user's key) into v's
// copied work disk.
func (d *vms) newIdentity(ctx context.Context, v *model.VM) error {
	userPub, err := sshkeys.EnsureUserKey(d.cfg.SSHKeyPath)
	if err != nil {
		return err
	}
	priv, pub, err := sshkeys.NewHostKey()
	if err != nil {
		return err
	}
	if err := d.storage.UpdateIdentity(ctx, v.WorkDisk, userPub, priv, []byte(pub)); err != nil {
		return err
	}
	v.HostKeyPub = pub
	return nil
}
