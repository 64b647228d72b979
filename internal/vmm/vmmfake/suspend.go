package vmmfake

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/bangerdev/banger/internal/vmm"
)

// StateFileName is the file Suspend writes into the state directory. It
// holds the suspended VM's spec as JSON, padded to the guest memory size
// with a hole, so callers measuring the state see a plausible size.
const StateFileName = "fake.state"

// FailSuspend makes the next Suspends fail with err (nil to stop failing);
// the guest keeps running, as with a real driver.
func (d *Driver) FailSuspend(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.suspendErr = err
}

// SetVersion changes what Version reports (default "fake-1.0").
func (d *Driver) SetVersion(v string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.version = v
}

// SetStateTraits sets what StateTraits reports (default none), to act
// like a driver whose VMM maps its loaded state or whose state records
// drive paths (firecracker).
func (d *Driver) SetStateTraits(t vmm.StateTraits) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.traits = t
}

// StateTraits returns what SetStateTraits set.
func (d *Driver) StateTraits() vmm.StateTraits {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.traits
}

// Version returns "fake-1.0" or what SetVersion set.
func (d *Driver) Version(ctx context.Context) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.version == "" {
		return "fake-1.0", nil
	}
	return d.version, nil
}

// Suspend writes the VM's spec into stateDir/fake.state and stops the VM.
func (d *Driver) Suspend(ctx context.Context, h vmm.Handle, stateDir string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	vm, ok := d.lookup(h)
	if !ok {
		return fmt.Errorf("suspend vm: %w", vmm.ErrNotRunning)
	}
	if d.suspendErr != nil {
		return d.suspendErr
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return err
	}
	b, _ := json.Marshal(vm.Spec)
	path := filepath.Join(stateDir, StateFileName)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return err
	}
	if err := os.Truncate(path, int64(vm.Spec.MemoryMiB)<<20); err != nil {
		return err
	}
	vm.Running = false
	vm.Suspended = true
	return nil
}

// loadState checks that spec.IncomingState holds a state Suspend wrote.
func loadState(spec vmm.Spec) error {
	// The spec is at the start; the rest is a hole of the guest's size,
	// not worth reading.
	f, err := os.Open(filepath.Join(spec.IncomingState, StateFileName))
	if err != nil {
		return fmt.Errorf("load saved state: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return fmt.Errorf("load saved state: %w", err)
	}
	var saved vmm.Spec
	end := len(b)
	for end > 0 && b[end-1] == 0 {
		end--
	}
	if err := json.Unmarshal(b[:end], &saved); err != nil {
		return fmt.Errorf("load saved state: corrupt state file: %w", err)
	}
	if saved.VCPUs != spec.VCPUs || saved.MemoryMiB != spec.MemoryMiB {
		return fmt.Errorf("load saved state: saved for %d vCPUs/%d MiB, started with %d/%d", saved.VCPUs, saved.MemoryMiB, spec.VCPUs, spec.MemoryMiB)
	}
	return nil
}
