package qemu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/bangerdev/banger/internal/vmm"
)

// StateFileName is the file Suspend writes into a state directory: qemu's
// migration stream of the paused guest (memory and device state).
const StateFileName = "qemu.state"

// stateFDName is the name the state file's descriptor gets in qemu (getfd).
const stateFDName = "banger-state"

// maxBandwidth lifts qemu's migration throttle (32 MiB/s by default in 7.x)
// so a suspend writes as fast as the disk takes it.
const maxBandwidth = int64(64) << 30

// Suspend saves the guest into stateDir and ends qemu: QMP stop, migrate to
// a file descriptor passed over the QMP socket (qemu 7.2 has no file:
// migration URI; fd: works on every version banger supports and needs no
// shell), wait for the migration to complete, fsync, quit. On failure the
// guest is continued and the partial file removed.
func (d *Driver) Suspend(ctx context.Context, h vmm.Handle, stateDir string) error {
	if !d.Alive(h) {
		return fmt.Errorf("suspend vm: %w", vmm.ErrNotRunning)
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return fmt.Errorf("suspend vm: %w", err)
	}
	final := filepath.Join(stateDir, StateFileName)
	tmp := final + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("suspend vm: %w", err)
	}
	defer f.Close()
	c, err := DialQMP(ctx, h.ControlSocket)
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("suspend vm: %w", err)
	}
	defer c.Close()
	fail := func(step string, err error) error {
		os.Remove(tmp)
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if cerr := c.Execute(cctx, "cont", nil, nil); cerr != nil {
			err = fmt.Errorf("%w (and continuing the guest failed: %v)", err, cerr)
		}
		return fmt.Errorf("suspend vm: %s: %w", step, err)
	}
	if err := c.Execute(ctx, "stop", nil, nil); err != nil {
		return fail("pause guest", err)
	}
	if err := c.Execute(ctx, "migrate-set-parameters", map[string]any{"max-bandwidth": maxBandwidth}, nil); err != nil {
		return fail("lift migration throttle", err)
	}
	if err := c.ExecuteFD(ctx, "getfd", map[string]any{"fdname": stateFDName}, nil, f); err != nil {
		return fail("pass state file", err)
	}
	if err := c.Execute(ctx, "migrate", map[string]any{"uri": "fd:" + stateFDName}, nil); err != nil {
		return fail("save state", err)
	}
	if err := waitMigration(ctx, c); err != nil {
		return fail("save state", err)
	}
	if err := f.Sync(); err != nil {
		return fail("sync state file", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fail("keep state file", err)
	}
	syncDir(stateDir)
	// quit may close the socket before it answers; the process check below
	// is what counts.
	_ = c.Execute(ctx, "quit", nil, nil)
	if !waitGone(d, h, 10*time.Second) {
		_ = d.Kill(h, syscall.SIGKILL)
		if !waitGone(d, h, 5*time.Second) {
			return fmt.Errorf("suspend vm: state saved but qemu (pid %d) did not exit; kill it", h.PID)
		}
	}
	return nil
}

// loadState feeds the state file in stateDir to a qemu started with
// -incoming defer, waits until it is loaded and continues the guest.
func loadState(ctx context.Context, qmpPath, stateDir string) error {
	f, err := os.Open(filepath.Join(stateDir, StateFileName))
	if err != nil {
		return fmt.Errorf("open saved state: %w", err)
	}
	defer f.Close()
	c, err := waitQMP(ctx, qmpPath)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.ExecuteFD(ctx, "getfd", map[string]any{"fdname": stateFDName}, nil, f); err != nil {
		return err
	}
	if err := c.Execute(ctx, "migrate-incoming", map[string]any{"uri": "fd:" + stateFDName}, nil); err != nil {
		return err
	}
	if err := waitMigration(ctx, c); err != nil {
		return fmt.Errorf("%w: qemu could not load the saved state (corrupt file, or written by another qemu version or for other vCPU/memory/devices)", err)
	}
	return c.Execute(ctx, "cont", nil, nil)
}

// waitQMP dials the QMP socket until it answers or ctx ends.
func waitQMP(ctx context.Context, path string) (*QMP, error) {
	for {
		c, err := DialQMP(ctx, path)
		if err == nil {
			return c, nil
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

type migrationInfo struct {
	Status    string `json:"status"`
	ErrorDesc string `json:"error-desc"`
}

// waitMigration polls query-migrate until the migration completes or fails.
func waitMigration(ctx context.Context, c *QMP) error {
	for {
		var mi migrationInfo
		if err := c.Execute(ctx, "query-migrate", nil, &mi); err != nil {
			return err
		}
		switch mi.Status {
		case "completed":
			return nil
		case "failed", "cancelled":
			if mi.ErrorDesc == "" {
				mi.ErrorDesc = "no reason given"
			}
			return errors.New("migration " + mi.Status + ": " + mi.ErrorDesc)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("migration still %q: %w", mi.Status, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func waitGone(d *Driver, h vmm.Handle, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if !d.Alive(h) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return !d.Alive(h)
}

func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		f.Close()
	}
}

// Version returns the qemu binary's version ("7.2.22").
func (d *Driver) Version(ctx context.Context) (string, error) {
	caps, err := Probe(ctx, d.binary())
	if err != nil {
		return "", err
	}
	return caps.Version, nil
}
