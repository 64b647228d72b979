package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/sshclient"
	"github.com/bangerdev/banger/internal/sshkeys"
	"github.com/bangerdev/banger/internal/steps"
	"github.com/bangerdev/banger/internal/units"
	"github.com/bangerdev/banger/internal/vmm"
)

// stateDirName is the directory inside a VM's directory that holds its
// saved state while it is suspended; stateMetaName describes that state
// next to the files, so a daemon that died between saving and recording
// still finds it (see adoptSavedState).
const (
	stateDirName  = "state"
	stateMetaName = "banger-state.json"
)

func stateDir(v *model.VM) string { return filepath.Join(v.Dir, stateDirName) }

// writeStateMeta describes st in its directory (stateMetaName), where
// adoption and snapshots find it.
func writeStateMeta(st model.SavedState) error {
	b, _ := json.MarshalIndent(st, "", "  ")
	return os.WriteFile(filepath.Join(st.Dir, stateMetaName), b, 0o600)
}

// suspendVM saves a running VM's memory and device state into its
// directory, ends its VMM process and releases its host resources. With
// resumeOnStart the VM is recorded for resumption at the next daemon start.
func (d *vms) suspendVM(ctx context.Context, name string, resumeOnStart bool, rep api.Reporter) (*model.VM, error) {
	unlock := d.vmLock(name)
	defer unlock()
	v, err := d.loadVM(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := v.Allows(model.OpSuspend); err != nil {
		return nil, err
	}
	drv, h, err := d.liveVMM(v)
	if err != nil {
		return nil, err
	}
	rep.Step(1, 1, "saving the memory and device state of "+name)
	start := time.Now()
	st, err := d.saveState(ctx, v, drv, h, stateDir(v))
	if err != nil {
		return nil, err
	}
	rep.Logf("saved %s of state in %s", units.HumanSize(st.Size), time.Since(start).Round(100*time.Millisecond))
	d.res.detachResources(ctx, v)
	v.State, v.Handle, v.SavedState, v.ResumeOnStart, v.LastError = model.Suspended, nil, &st, resumeOnStart, ""
	if err := d.store.UpdateVM(ctx, v); err != nil {
		return nil, err
	}
	return v, nil
}

// liveVMM returns the driver and handle of v's running VMM process.
func (d *vms) liveVMM(v *model.VM) (vmm.Driver, vmm.Handle, error) {
	h, ok := v.Process()
	drv, derr := d.driverFor(v)
	if !ok || derr != nil || !drv.Alive(h) {
		return nil, h, model.Conflict("%s has no running VMM process; see 'banger vm show %s'", v.Name, v.Name)
	}
	return drv, h, nil
}

// saveState has drv write v's state into dir (replacing what was there)
// and describes it. The VMM process is gone afterwards; on failure it keeps
// running and its monitor is restored.
func (d *vms) saveState(ctx context.Context, v *model.VM, drv vmm.Driver, h vmm.Handle, dir string) (model.SavedState, error) {
	ver, err := drv.Version(ctx)
	if err != nil {
		return model.SavedState{}, fmt.Errorf("suspend %s: %w", v.Name, err)
	}
	// The files of a state this VMM loaded may still be mapped by it
	// (firecracker's memory file): the driver replaces them by rename, so
	// only the description goes first, and a failed suspend leaves them.
	if err := os.Remove(filepath.Join(dir, stateMetaName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return model.SavedState{}, fmt.Errorf("suspend %s: clear old state: %w", v.Name, err)
	}
	d.monitors.stop(v.Name)
	if err := drv.Suspend(ctx, h, dir); err != nil {
		if drv.Alive(h) {
			d.monitors.start(v.Name, h)
		}
		return model.SavedState{}, fmt.Errorf("suspend %s: %w; the VM keeps running", v.Name, err)
	}
	st := model.SavedState{Dir: dir, Driver: drv.Name(), VMMVersion: ver, VCPUs: v.VCPUs, MemoryMiB: v.MemoryMiB,
		Size: dirAllocated(dir), SavedAt: time.Now()}
	st.DrivePaths, st.Tap = drivePaths(d.spec(v)), v.Tap
	if err := writeStateMeta(st); err != nil {
		return model.SavedState{}, fmt.Errorf("suspend %s: record state: %w", v.Name, err)
	}
	return st, nil
}

// stateMismatch says why st cannot be loaded into v with drv, or "".
func (d *vms) stateMismatch(ctx context.Context, v *model.VM, drv vmm.Driver, st model.SavedState) string {
	if st.Driver != drv.Name() {
		return fmt.Sprintf("it was written by %s but %s now runs on %s", st.Driver, v.Name, drv.Name())
	}
	if ver, err := drv.Version(ctx); err != nil {
		return "the VMM version cannot be checked: " + err.Error()
	} else if ver != st.VMMVersion {
		return fmt.Sprintf("it was written by %s %s and this host has %s %s", st.Driver, st.VMMVersion, drv.Name(), ver)
	}
	if st.VCPUs != v.VCPUs || st.MemoryMiB != v.MemoryMiB {
		return fmt.Sprintf("it is for %d vCPUs and %d MiB but the VM now has %d vCPUs and %d MiB", st.VCPUs, st.MemoryMiB, v.VCPUs, v.MemoryMiB)
	}
	if vmm.StateTraitsOf(drv).DrivePathsFixed && st.DrivePaths != nil {
		now := drivePaths(d.spec(v))
		for i := range max(len(now), len(st.DrivePaths)) {
			was, is := "(none)", "(none)"
			if i < len(st.DrivePaths) {
				was = st.DrivePaths[i]
			}
			if i < len(now) {
				is = now[i]
			}
			if was != is {
				return fmt.Sprintf("%s records drive %d at %s but it is now at %s, and a %s state loads only with its drives where they were", st.Driver, i, was, is, st.Driver)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(st.Dir, stateMetaName)); err != nil {
		return "its files are missing from " + st.Dir
	}
	return ""
}

// resumeVM loads a suspended VM's saved state into a new VMM process with
// the same tap, address, NAT and DNS name, waits for SSH (with wait) and
// sets the guest clock. A state that cannot be loaded is reported and kept;
// only 'vm start --cold' discards it. run times the resume from the
// request.
func (d *vms) resumeVM(ctx context.Context, v *model.VM, wait bool, run *steps.Runner, rep api.Reporter) (*model.VM, error) {
	st := v.SavedState
	if st == nil {
		return nil, model.Conflict("%s is suspended but its saved state is not recorded; boot it with 'banger vm start --cold %s'", v.Name, v.Name)
	}
	drv, err := d.driverFor(v)
	if err != nil {
		return nil, err
	}
	if why := d.stateMismatch(ctx, v, drv, *st); why != "" {
		return nil, model.Conflict("the saved state of %s cannot be loaded: %s; run 'banger vm start --cold %s' to discard it and boot afresh (running programs are lost, disks are kept)", v.Name, why, v.Name)
	}
	if err := d.checks.preflightStart(v.Kernel, v.BaseImage, v.NAT); err != nil {
		return nil, err
	}
	b, err := d.newBoot(v, run, rep, wait, st.Dir)
	if err != nil {
		return nil, err
	}
	run.Lap("preflight")
	start := time.Now()
	if err := run.Run(ctx, b.steps()...); err != nil {
		// The boot's undo marked it stopped; the state is untouched.
		v.State, v.Handle, v.LastError = model.Suspended, nil, err.Error()
		if uerr := d.store.UpdateVM(context.Background(), v); uerr != nil {
			d.log.Error("keep suspended state", "vm", v.Name, "err", uerr)
		}
		return nil, fmt.Errorf("resume %s: %w; the saved state is kept: retry, or discard it with 'banger vm start --cold %s'", v.Name, err, v.Name)
	}
	// The guest runs on from the state: it is spent. A VMM that maps it
	// (firecracker's memory file) needs it until it exits (markStopped) or
	// the next suspend replaces it; its space shows in 'vm stats'.
	if !vmm.StateTraitsOf(drv).MappedAfterLoad {
		removeSpentState(d, v, st.Dir)
	} else if err := os.Remove(filepath.Join(st.Dir, stateMetaName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		d.log.Warn("remove spent state description", "vm", v.Name, "err", err)
	}
	v.SavedState, v.ResumeOnStart = nil, false
	if err := d.store.UpdateVM(ctx, v); err != nil {
		return nil, err
	}
	rep.Logf("resumed in %s", time.Since(start).Round(100*time.Millisecond))
	return v, nil
}

// syncGuestClock steps a resumed guest's wall clock to the host's and is
// its readiness check: the login proves the pinned host key and the
// user's key. A resumed guest's clock stands where it was suspended; the
// guest contract has no agent, so the daemon sets it over SSH with date -s
// (see docs/suspend.md). The host time is taken only once the guest's
// shell runs and asks for it, so the SSH handshake (over a second under
// TCG) does not count. Connection failures are retried until
// sshReadyTimeout (a host key mismatch fails at once); a clock that cannot
// be set is reported and the VM is ready anyway.
func (g *guests) syncGuestClock(ctx context.Context, v *model.VM, rep api.Reporter) error {
	ctx, cancel := context.WithTimeout(ctx, sshReadyTimeout)
	defer cancel()
	for {
		code, stderr, err := g.setGuestClock(ctx, v)
		var he *sshkeys.HostKeyError
		switch {
		case err == nil && code != 0:
			rep.Logf("could not set the guest clock: date -s exited %d: %s", code, stderr)
			return nil
		case err == nil:
			return nil
		case errors.As(err, &he):
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// setGuestClock makes one SSH login that sets the guest clock.
func (g *guests) setGuestClock(ctx context.Context, v *model.VM) (int, string, error) {
	pr, pw := io.Pipe()
	defer pw.Close()
	feed := &clockFeeder{w: pw}
	var errb bytes.Buffer
	code, err := sshclient.Exec(ctx, g.sshTarget(v), `echo ready; read t; date -u -s "@$t" >/dev/null`, pr, feed, &errb)
	return code, string(bytes.TrimSpace(errb.Bytes())), err
}

// clockFeeder answers the guest's "ready" with the host's time on stdin.
type clockFeeder struct {
	w    *io.PipeWriter
	seen []byte
	once sync.Once
}

func (f *clockFeeder) Write(p []byte) (int, error) {
	f.seen = append(f.seen, p...)
	if bytes.Contains(f.seen, []byte("ready\n")) {
		f.once.Do(func() {
			go func() {
				now := time.Now()
				fmt.Fprintf(f.w, "%d.%09d\n", now.Unix(), now.Nanosecond())
				f.w.Close()
			}()
		})
	}
	return len(p), nil
}

// discardState deletes a suspended VM's saved state and records it stopped.
func (d *vms) discardState(ctx context.Context, v *model.VM) error {
	dir := stateDir(v)
	if st := v.SavedState; st != nil {
		dir = st.Dir
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("discard saved state of %s: %w", v.Name, err)
	}
	v.State, v.SavedState, v.ResumeOnStart = model.Stopped, nil, false
	return d.store.UpdateVM(ctx, v)
}

// adoptSavedState is adoption's answer to a VM recorded running whose
// process is gone: when a complete saved state newer than its start is in
// its directory (the daemon died between saving and recording), the VM is
// suspended, not stopped.
func (d *vms) adoptSavedState(ctx context.Context, v *model.VM) bool {
	b, err := os.ReadFile(filepath.Join(stateDir(v), stateMetaName))
	if err != nil {
		return false
	}
	var st model.SavedState
	if json.Unmarshal(b, &st) != nil || st.SavedAt.Before(v.StartedAt) {
		return false
	}
	d.res.detachResources(ctx, v)
	v.State, v.Handle, v.SavedState = model.Suspended, nil, &st
	if err := d.store.UpdateVM(ctx, v); err != nil {
		d.log.Error("record suspended", "vm", v.Name, "err", err)
		return false
	}
	d.log.Info("vm was suspended while bangerd was not running; keeping its saved state", "vm", v.Name)
	return true
}

// resumeRecorded resumes, one after another, the VMs that 'vm suspend
// --all' recorded (with wait: each up to SSH and clock correction). With
// resume_on_start set it runs in the background after adoption; failures
// are logged and leave the VM suspended.
func (d *vms) resumeRecorded(ctx context.Context, vms []*model.VM, wait bool) {
	for _, v := range vms {
		if !v.ResumeOnStart || v.State != model.Suspended {
			continue
		}
		d.log.Info("resuming VM suspended by 'vm suspend --all'", "vm", v.Name)
		if _, err := d.startVM(ctx, v.Name, wait, false, api.NopReporter{}); err != nil {
			d.log.Error("resume at start", "vm", v.Name, "err", err)
		}
	}
}

// removeSpentState deletes the files of a state that was loaded and is no
// longer needed.
func removeSpentState(d *vms, v *model.VM, dir string) {
	if err := os.RemoveAll(dir); err != nil {
		d.log.Warn("remove spent state", "vm", v.Name, "err", err)
	}
}

// drivePaths lists the host paths of spec's drives in guest order.
func drivePaths(spec vmm.Spec) []string {
	out := make([]string, len(spec.Drives))
	for i, dr := range spec.Drives {
		out[i] = dr.Path
	}
	return out
}

// dirAllocated is the host space the files directly in dir take.
func dirAllocated(dir string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			n += allocated(fi)
		}
	}
	return n
}

// allocated is the space fi takes on disk (its blocks, not its length).
func allocated(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return fi.Size()
}
