package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/namegen"
	"github.com/bangerdev/banger/internal/revert"
	"github.com/bangerdev/banger/internal/steps"
	"github.com/bangerdev/banger/internal/store"
)

func snapshotsDir(v *model.VM) string { return filepath.Join(v.Dir, "snapshots") }

func snapshotAPI(s *store.Snapshot) api.Snapshot {
	return api.Snapshot{VM: s.VM, Name: s.Name, Memory: s.Memory, Method: s.Method, Allocated: s.Allocated,
		Dir: s.Dir, CreatedAt: s.CreatedAt}
}

// createSnapshot copies v's disks (and with req.Memory its running state)
// into <vm dir>/snapshots/<name>. A running VM is suspended for the copy
// and resumed afterwards, so disks and memory are of one instant.
func (d *vms) createSnapshot(ctx context.Context, name string, req api.SnapshotRequest, rep api.Reporter) (*api.Snapshot, error) {
	unlock := d.vmLock(name)
	defer unlock()
	v, err := d.loadVM(ctx, name)
	if err != nil {
		return nil, err
	}
	if req.Name == "" {
		req.Name = "snap-" + time.Now().Format("20060102-150405")
	}
	if err := namegen.Validate("snapshot", req.Name); err != nil {
		return nil, model.Invalid("%v", err)
	}
	if _, err := d.store.GetSnapshot(ctx, name, req.Name); err == nil {
		return nil, model.Conflict("%s already has a snapshot named %q; pick another name or delete it with 'banger vm snapshot delete %s %s'", name, req.Name, name, req.Name)
	}
	if err := v.Allows(model.OpSnapshot); err != nil {
		return nil, err
	}
	wasRunning := false
	switch v.State {
	case model.Running:
		drv, h, err := d.liveVMM(v)
		if err != nil {
			return nil, err
		}
		rep.Step(1, 3, "suspending "+name+" for a consistent copy")
		// Flush the guest's page cache first, so the disks hold what its
		// programs wrote; best effort, the suspend is what makes it
		// consistent.
		if !req.NoWait {
			sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			_, _ = d.guests.sshRun(sctx, v, "sync")
			cancel()
		}
		st, err := d.saveState(ctx, v, drv, h, stateDir(v))
		if err != nil {
			return nil, err
		}
		d.res.detachResources(ctx, v)
		v.State, v.Handle, v.SavedState = model.Suspended, nil, &st
		if err := d.store.UpdateVM(ctx, v); err != nil {
			return nil, err
		}
		wasRunning = true
	case model.Stopped:
		if req.Memory {
			return nil, model.Invalid("%s is stopped, so it has no running state to save: drop --memory, or start it first", name)
		}
	}
	rep.Step(2, 3, "copying disks into snapshot "+req.Name)
	sn, err := d.copyIntoSnapshot(ctx, v, req)
	if wasRunning {
		rep.Step(3, 3, "resuming "+name)
		if _, rerr := d.resumeVM(ctx, v, !req.NoWait, steps.New(rep), rep); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	if err != nil {
		return nil, err
	}
	out := snapshotAPI(sn)
	return &out, nil
}

// copyIntoSnapshot copies a stopped or suspended VM's disks (and state).
func (d *vms) copyIntoSnapshot(ctx context.Context, v *model.VM, req api.SnapshotRequest) (*store.Snapshot, error) {
	dir := filepath.Join(snapshotsDir(v), req.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", v.Name, err)
	}
	r := revert.New()
	defer r.Fail()
	r.Add("remove snapshot dir", func() error { return os.RemoveAll(dir) })
	meta := model.SnapshotFiles{Overlay: filepath.Join(dir, filepath.Base(v.OverlayPath)), WorkDisk: filepath.Join(dir, filepath.Base(v.WorkDisk))}
	method, err := d.storage.CopyDisk(ctx, v.OverlayPath, meta.Overlay, false)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: system overlay: %w", v.Name, err)
	}
	r.Add("remove overlay copy", func() error { return d.storage.RemoveImage(meta.Overlay) })
	if _, err := d.storage.CopyDisk(ctx, v.WorkDisk, meta.WorkDisk, false); err != nil {
		return nil, fmt.Errorf("snapshot %s: work disk: %w", v.Name, err)
	}
	r.Add("remove work disk copy", func() error { return d.storage.RemoveImage(meta.WorkDisk) })
	var alloc int64
	for _, p := range []string{meta.Overlay, meta.WorkDisk} {
		if _, a, err := d.storage.ImageInfo(p); err == nil {
			alloc += a
		}
	}
	if req.Memory {
		if v.SavedState == nil {
			return nil, model.Conflict("%s has no saved state to keep in the snapshot; resume it with 'banger vm start %s'", v.Name, v.Name)
		}
		stDir := filepath.Join(dir, stateDirName)
		if err := linkFiles(v.SavedState.Dir, stDir); err != nil {
			return nil, fmt.Errorf("snapshot %s: keep saved state: %w", v.Name, err)
		}
		st := *v.SavedState
		st.Dir = stDir
		meta.State = &st
		alloc += dirAllocated(stDir)
	}
	sn := &store.Snapshot{VM: v.Name, Name: req.Name, Dir: dir, Memory: req.Memory, Method: method,
		Allocated: alloc, Files: meta, CreatedAt: time.Now()}
	if err := d.store.InsertSnapshot(ctx, sn); err != nil {
		return nil, err
	}
	r.Success()
	return sn, nil
}

// linkFiles hard-links every file of src into dst (created): saved states
// are never modified, so a link shares them at no cost.
func linkFiles(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() == stateMetaName || !e.Type().IsRegular() {
			continue
		}
		if err := os.Link(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// restoreSnapshot puts a snapshot's disks back in place of v's (and its
// saved state: the VM is then suspended at the snapshot's instant). A
// running VM is refused unless force, which stops it first.
func (d *vms) restoreSnapshot(ctx context.Context, name, snap string, force bool, rep api.Reporter) (*model.VM, error) {
	unlock := d.vmLock(name)
	defer unlock()
	v, err := d.loadVM(ctx, name)
	if err != nil {
		return nil, err
	}
	sn, err := d.loadSnapshot(ctx, name, snap)
	if err != nil {
		return nil, err
	}
	meta := sn.Files
	if meta.Overlay == "" || meta.WorkDisk == "" {
		return nil, fmt.Errorf("snapshot %s of %s is unreadable: its files are not recorded; delete it", snap, name)
	}
	op := model.OpRestore
	if force {
		op = model.OpForceRestore
	}
	if err := v.Allows(op); err != nil {
		return nil, err
	}
	var list []steps.Step
	switch v.State {
	case model.Running:
		list = append(list, steps.Step{Name: "stop", Label: steps.Fixed("stopping " + name), Do: func(ctx context.Context) error {
			return d.powerOff(ctx, v, rep)
		}})
	case model.Suspended:
		// Its saved state belongs to the disks being replaced.
		list = append(list, steps.Step{Name: "discard_state", Do: func(ctx context.Context) error {
			return d.discardState(ctx, v)
		}})
	}
	list = append(list, steps.Step{Name: "restore", Label: steps.Fixed("restoring disks from snapshot " + snap), Do: func(ctx context.Context) error {
		if _, err := d.storage.CopyDisk(ctx, meta.Overlay, v.OverlayPath, true); err != nil {
			return fmt.Errorf("restore %s: system overlay: %w; the VM's disks may be inconsistent: restore again", name, err)
		}
		if _, err := d.storage.CopyDisk(ctx, meta.WorkDisk, v.WorkDisk, true); err != nil {
			return fmt.Errorf("restore %s: work disk: %w; the VM's disks may be inconsistent: restore again", name, err)
		}
		return nil
	}}, steps.Step{Name: "state", Do: func(context.Context) error {
		if meta.State == nil {
			return nil
		}
		st := *meta.State
		st.Dir = stateDir(v)
		_ = os.RemoveAll(st.Dir)
		if err := linkFiles(meta.State.Dir, st.Dir); err != nil {
			return fmt.Errorf("restore %s: saved state: %w", name, err)
		}
		if err := writeStateMeta(st); err != nil {
			return fmt.Errorf("restore %s: saved state: %w", name, err)
		}
		v.State, v.SavedState = model.Suspended, &st
		return nil
	}})
	if err := steps.New(rep).Run(ctx, list...); err != nil {
		return nil, err
	}
	v.LastError = ""
	if err := d.store.UpdateVM(ctx, v); err != nil {
		return nil, err
	}
	return v, nil
}

func (d *vms) loadSnapshot(ctx context.Context, vm, snap string) (*store.Snapshot, error) {
	sn, err := d.store.GetSnapshot(ctx, vm, snap)
	if errors.Is(err, store.ErrNotFound) {
		return nil, model.NoSuchSnapshot(vm, snap)
	}
	return sn, err
}

// listSnapshots returns vm's snapshots, oldest first.
func (d *vms) listSnapshots(ctx context.Context, name string) ([]api.Snapshot, error) {
	if _, err := d.loadVM(ctx, name); err != nil {
		return nil, err
	}
	sns, err := d.store.ListSnapshots(ctx, name)
	if err != nil {
		return nil, err
	}
	out := make([]api.Snapshot, 0, len(sns))
	for _, s := range sns {
		out = append(out, snapshotAPI(s))
	}
	return out, nil
}

// deleteSnapshot removes a snapshot's files and record.
func (d *vms) deleteSnapshot(ctx context.Context, name, snap string) error {
	unlock := d.vmLock(name)
	defer unlock()
	if _, err := d.loadVM(ctx, name); err != nil {
		return err
	}
	sn, err := d.loadSnapshot(ctx, name, snap)
	if err != nil {
		return err
	}
	for _, p := range []string{sn.Files.Overlay, sn.Files.WorkDisk} {
		if p != "" {
			if err := d.storage.RemoveImage(p); err != nil {
				return fmt.Errorf("delete snapshot %s of %s: %w", snap, name, err)
			}
		}
	}
	if err := os.RemoveAll(sn.Dir); err != nil {
		return fmt.Errorf("delete snapshot %s of %s: %w", snap, name, err)
	}
	return d.store.DeleteSnapshot(ctx, name, snap)
}
