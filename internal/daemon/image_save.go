package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/namegen"
	"github.com/bangerdev/banger/internal/revert"
	"github.com/bangerdev/banger/internal/store"
)

// saveImage saves a VM's root disk (its image plus the system overlay) as
// a new read-only image. The VM must be stopped, or req.Stop powers it off
// first; it is left stopped and unchanged. The work disk (/root) is not
// part of the image.
func (m *images) saveImage(ctx context.Context, req api.SaveImageRequest, rep api.Reporter) (*api.Image, error) {
	if err := namegen.Validate("image", req.Name); err != nil {
		return nil, model.Invalid("%v", err)
	}
	if _, err := m.store.GetImage(ctx, req.Name); err == nil {
		return nil, model.Conflict("an image named %q already exists; delete it with 'banger image delete %s' or pick another name", req.Name, req.Name)
	}
	unlock := m.vms.vmLock(req.VM)
	defer unlock()
	v, err := m.vms.loadVM(ctx, req.VM)
	if err != nil {
		return nil, err
	}
	const steps = 2
	op := model.OpSaveImage
	if req.Stop {
		op = model.OpStopSaveImage
	}
	if err := v.Allows(op); err != nil {
		return nil, err
	}
	if v.State == model.Running {
		rep.Step(1, steps, "stopping "+v.Name)
		if err := m.vms.powerOff(ctx, v, rep); err != nil {
			return nil, err
		}
	}
	out := filepath.Join(m.dir, req.Name+".ext4")
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		return nil, err
	}
	if _, err := os.Stat(out); err == nil {
		return nil, model.Conflict("%s already exists; remove it or pick another image name", out)
	}
	r := revert.New()
	defer r.Fail()
	rep.Step(2, steps, "saving the root disk of "+v.Name+" as image "+req.Name)
	if err := m.storage.FlattenOverlay(ctx, overlayOf(v), out); err != nil {
		return nil, fmt.Errorf("image save: %w", err)
	}
	r.Add("remove image file", func() error { return m.storage.RemoveImage(out) })
	if err := m.storage.MakeReadOnly(out); err != nil {
		return nil, err
	}
	size, _, err := m.storage.ImageInfo(out)
	if err != nil {
		return nil, fmt.Errorf("image save: %w", err)
	}
	im := &store.Image{Name: req.Name, Path: out, Kernel: v.Kernel, Initrd: v.Initrd, Size: size, CreatedAt: time.Now()}
	if src, err := m.store.GetImage(ctx, v.Image); err == nil {
		im.Modules, im.Packages = src.Modules, src.Packages
	}
	if err := m.store.InsertImage(ctx, im); err != nil {
		return nil, err
	}
	r.Success()
	res := imageToAPI(im, nil)
	return &res, nil
}
