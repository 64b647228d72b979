package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/config"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/namegen"
	"github.com/bangerdev/banger/internal/network"
	"github.com/bangerdev/banger/internal/sshkeys"
	"github.com/bangerdev/banger/internal/steps"
	"github.com/bangerdev/banger/internal/storage"
	"github.com/bangerdev/banger/internal/store"
)

// Accepted ranges for VM resources, shared with config validation.
const (
	MinMemoryMiB = config.MinMemoryMiB
	MaxMemoryMiB = config.MaxMemoryMiB
	MinVCPUs     = config.MinVCPUs
	MaxVCPUs     = config.MaxVCPUs
	MinDiskSize  = config.MinDiskSize
	MaxDiskSize  = config.MaxDiskSize
)

// validateResources checks vcpus, memory and disk against the accepted
// ranges; zero values are not checked (callers fill defaults first).
func validateResources(vcpus, memMiB int, disk int64) error {
	checks := []struct {
		set bool
		err func() error
	}{
		{vcpus != 0, func() error { return config.CheckVCPUs(vcpus) }},
		{memMiB != 0, func() error { return config.CheckMemoryMiB(memMiB) }},
		{disk != 0, func() error { return config.CheckDiskSize(disk) }},
	}
	for _, c := range checks {
		if c.set {
			if err := c.err(); err != nil {
				return model.Invalid("%v", err)
			}
		}
	}
	return nil
}

// createVM validates the request, builds the VM's disks and identity, and
// boots it, as one list of steps. Any failure removes everything this call
// created.
func (d *vms) createVM(ctx context.Context, req api.CreateVMRequest, rep api.Reporter) (*model.VM, error) {
	run := steps.New(rep)
	name, err := d.newVMName(ctx, req.Name)
	if err != nil {
		return nil, err
	}
	req.Name = name
	if req.VCPUs == 0 {
		req.VCPUs = d.cfg.DefaultVCPUs
	}
	if req.MemoryMiB == 0 {
		req.MemoryMiB = d.cfg.DefaultMemoryMiB
	}
	if req.DiskSize == 0 {
		req.DiskSize = d.cfg.DefaultDiskSize
	}
	if err := validateResources(req.VCPUs, req.MemoryMiB, req.DiskSize); err != nil {
		return nil, err
	}
	if req.Image == "" {
		req.Image = DefaultImageName
	}
	unlock := d.vmLock(req.Name)
	defer unlock()
	if err := d.nameFree(ctx, req.Name); err != nil {
		return nil, err
	}
	img, err := loadImage(ctx, d.store, req.Image)
	if err != nil {
		return nil, err
	}
	if err := d.checks.preflightStart(img.Kernel, img.Path, req.NAT); err != nil {
		return nil, err
	}
	v := &model.VM{}
	b, err := d.newBoot(v, run, rep, !req.NoWait, "")
	if err != nil {
		return nil, err
	}
	run.Lap("preflight")
	var ov storage.Overlay
	create := []steps.Step{
		d.reserveStep(v, req, img),
		{Name: "work_disk", Label: steps.Fixed("creating work disk and identity"), Do: func(ctx context.Context) error {
			if err := d.buildWorkDisk(ctx, v); err != nil {
				return noSpace(fmt.Errorf("create %s: work disk: %w", v.Name, err), v.WorkDisk)
			}
			return nil
		}},
		{Name: "overlay", Label: steps.Fixed("creating system overlay of " + img.Name), Do: func(ctx context.Context) error {
			probe := d.storage.Probe(d.driver, v.Dir)
			rep.Logf("overlay: %s (%s)", probe.Chosen, probe.Reason)
			var err error
			ov, err = d.storage.CreateOverlay(ctx, probe.Chosen, img.Path, filepath.Join(v.Dir, overlayFile(probe.Chosen)), d.cfg.SystemDiskSize)
			if err != nil {
				return noSpace(fmt.Errorf("create %s: system overlay: %w", v.Name, err), v.Dir)
			}
			return nil
		}, Undo: func() error { return d.storage.RemoveOverlay(context.Background(), ov) }},
		{Name: "overlay", Do: func(ctx context.Context) error {
			v.OverlayKind, v.OverlayPath, v.OverlayFormat, v.OverlayDevice = string(ov.Kind), ov.Path, ov.Format, ov.Device
			v.State = model.Stopped
			return d.store.UpdateVM(ctx, v)
		}},
	}
	if err := run.Run(ctx, append(create, b.steps()...)...); err != nil {
		return nil, err
	}
	return v, nil
}

// reserveStep reserves the VM's name, address, MAC and tap into v (see
// reserveVM); its undo deletes the record and everything in the VM's
// directory.
func (d *vms) reserveStep(v *model.VM, req api.CreateVMRequest, img *store.Image) steps.Step {
	return steps.Step{Name: "reserve", Label: steps.Fixed("reserving name and address"),
		Do: func(ctx context.Context) error {
			r, err := d.reserveVM(ctx, req, img)
			if err != nil {
				return err
			}
			*v = *r
			return nil
		},
		Undo: func() error {
			return errors.Join(d.storage.RemoveImage(v.WorkDisk), os.RemoveAll(v.Dir),
				d.store.DeleteVM(context.Background(), v.Name))
		}}
}

// reserveVM allocates the address, MAC and tap and inserts the record in
// state "creating", so concurrent creates cannot take the same ones.
func (d *vms) reserveVM(ctx context.Context, req api.CreateVMRequest, img *store.Image) (*model.VM, error) {
	d.reserveMu.Lock()
	defer d.reserveMu.Unlock()
	used, err := d.store.UsedAddresses(ctx)
	if err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	for _, s := range used {
		if a, err := netip.ParseAddr(s); err == nil {
			addrs = append(addrs, a)
		}
	}
	ip, err := network.AllocateIP(d.subnet, addrs)
	if err != nil {
		return nil, model.Conflict("%v", err)
	}
	id := make([]byte, 4)
	_, _ = rand.Read(id)
	v := &model.VM{
		Name: req.Name, Image: img.Name, State: model.Creating, VCPUs: req.VCPUs, MemoryMiB: req.MemoryMiB,
		DiskSize: req.DiskSize, NAT: req.NAT, IP: ip.String(), MAC: network.MACFor(ip),
		Tap: tapName(hex.EncodeToString(id)), Driver: d.driver,
		Dir: filepath.Join(d.layout.VMsDir, req.Name), Kernel: img.Kernel, Initrd: img.Initrd,
		BaseImage: img.Path, CreatedAt: time.Now(),
	}
	v.WorkDisk = filepath.Join(v.Dir, "work.ext4")
	if err := d.store.InsertVM(ctx, v); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, model.Conflict("reserve %s: %v; retry, or pick another name", v.Name, err)
		}
		return nil, noSpace(fmt.Errorf("reserve %s: %w", v.Name, err), d.layout.DBPath)
	}
	if err := os.MkdirAll(v.Dir, 0o700); err != nil {
		_ = d.store.DeleteVM(context.Background(), v.Name)
		return nil, noSpace(fmt.Errorf("create VM dir: %w", err), v.Dir)
	}
	return v, nil
}

// buildWorkDisk stages the identity (user key, VM host key) and makes the
// ext4 work disk from it without mounting anything.
func (d *vms) buildWorkDisk(ctx context.Context, v *model.VM) error {
	if err := d.adoptBundleKey(); err != nil {
		return err
	}
	userPub, err := sshkeys.EnsureUserKey(d.cfg.SSHKeyPath)
	if err != nil {
		return err
	}
	priv, pub, err := sshkeys.NewHostKey()
	if err != nil {
		return err
	}
	id := storage.Identity{AuthorizedKey: userPub, HostKeyPriv: priv, HostKeyPub: []byte(pub)}
	if err := d.storage.CreateWorkDisk(ctx, v.WorkDisk, v.DiskSize, id); err != nil {
		return err
	}
	v.HostKeyPub = pub
	return nil
}

func overlayFile(k storage.Kind) string {
	if k == storage.KindQcow2 {
		return "rootfs.qcow2"
	}
	if k == storage.KindDMSnapshot {
		return "rootfs.cow"
	}
	return "rootfs.ext4"
}

// nameFree refuses a name another VM has (409) with the next step.
func (d *vms) nameFree(ctx context.Context, name string) error {
	if _, err := d.store.GetVM(ctx, name); err == nil {
		return model.Conflict("a VM named %q already exists; pick another name or delete it with 'banger vm delete %s'", name, name)
	}
	return nil
}

// newVMName returns name after checking it, or a generated free name when
// name is empty; an invalid name is a 400.
func (d *vms) newVMName(ctx context.Context, name string) (string, error) {
	if name == "" {
		return d.generateName(ctx)
	}
	if err := namegen.Validate("VM", name); err != nil {
		return "", model.Invalid("%v", err)
	}
	return name, nil
}

func (d *vms) generateName(ctx context.Context) (string, error) {
	vms, err := d.store.ListVMs(ctx)
	if err != nil {
		return "", err
	}
	taken := map[string]bool{}
	for _, v := range vms {
		taken[v.Name] = true
	}
	return d.namegen.Generate(func(s string) bool { return taken[s] })
}

// noSpace turns err into a "no space left" error naming path when the
// filesystem holding path is full (ENOSPC from us, SQLite or a helper
// program); other errors pass unchanged.
func noSpace(err error, path string) error {
	msg := err.Error()
	if !errors.Is(err, syscall.ENOSPC) && !strings.Contains(msg, "disk is full") &&
		!strings.Contains(strings.ToLower(msg), "no space left") {
		return err
	}
	return fmt.Errorf("no space left on the filesystem of %s: %w; free space there or set BANGER_STATE_DIR to a larger one", path, err)
}
