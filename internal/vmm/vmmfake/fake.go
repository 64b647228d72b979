// Package vmmfake is an in-memory vmm.Driver for unit tests of code that
// drives VMs (the daemon): no processes, no sockets, with hooks to inject
// failures and to make guests ignore shutdown requests.
package vmmfake

import (
	"context"
	"fmt"
	"sync"
	"syscall"

	"github.com/bangerdev/banger/internal/vmm"
)

// Driver is the fake. The zero value is not usable; call New.
type Driver struct {
	name string

	mu       sync.Mutex
	nextPID  int
	vms      map[int]*VM
	startErr error
	// suspendErr fails Suspend; version is what Version reports.
	suspendErr error
	version    string
	traits     vmm.StateTraits
	// IgnoreShutdown makes guests ignore Shutdown (like a guest without an
	// ACPI handler), so callers exercise their kill fallback.
	ignoreShutdown bool
}

// VM is what the fake remembers about one started VM.
type VM struct {
	// Spec is the spec given to Start.
	Spec vmm.Spec
	// Handle is the handle Start returned.
	Handle vmm.Handle
	// Running is false after a honoured Shutdown or a Kill.
	Running bool
	// Signals lists the signals sent with Kill.
	Signals []syscall.Signal
	// Shutdowns counts Shutdown calls.
	Shutdowns int
	// Suspended is true after a successful Suspend.
	Suspended bool
}

// New returns a fake reporting name ("qemu" or "firecracker") as its Name.
func New(name string) *Driver {
	return &Driver{name: name, nextPID: 4_000_000, vms: map[int]*VM{}}
}

var _ vmm.Driver = (*Driver)(nil)

// Name returns the name given to New.
func (d *Driver) Name() string { return d.name }

// FailStart makes the next Starts fail with err (nil to stop failing).
func (d *Driver) FailStart(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.startErr = err
}

// IgnoreShutdown makes running guests ignore Shutdown when ignore is true.
func (d *Driver) IgnoreShutdown(ignore bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ignoreShutdown = ignore
}

// Start records spec and returns a handle with a fake pid.
func (d *Driver) Start(ctx context.Context, spec vmm.Spec) (vmm.Handle, error) {
	if err := ctx.Err(); err != nil {
		return vmm.Handle{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.startErr != nil {
		return vmm.Handle{}, d.startErr
	}
	if spec.IncomingState != "" {
		if err := loadState(spec); err != nil {
			return vmm.Handle{}, err
		}
	}
	d.nextPID++
	h := vmm.Handle{Driver: d.name, PID: d.nextPID, StartTime: uint64(d.nextPID) * 10, ControlSocket: spec.Dir + "/fake.sock", Accel: "tcg"}
	d.vms[h.PID] = &VM{Spec: spec, Handle: h, Running: true}
	return h, nil
}

func (d *Driver) lookup(h vmm.Handle) (*VM, bool) {
	vm, ok := d.vms[h.PID]
	if !ok || vm.Handle.StartTime != h.StartTime || !vm.Running {
		return vm, false
	}
	return vm, true
}

// Shutdown stops the VM at once unless IgnoreShutdown is set.
func (d *Driver) Shutdown(ctx context.Context, h vmm.Handle) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	vm, ok := d.lookup(h)
	if !ok {
		return fmt.Errorf("shut down vm: %w", vmm.ErrNotRunning)
	}
	vm.Shutdowns++
	if !d.ignoreShutdown {
		vm.Running = false
	}
	return nil
}

// Kill records sig; every signal but SIGCONT, SIGSTOP and 0 stops the VM.
func (d *Driver) Kill(h vmm.Handle, sig syscall.Signal) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	vm, ok := d.lookup(h)
	if !ok {
		return fmt.Errorf("signal pid %d: %w", h.PID, vmm.ErrNotRunning)
	}
	vm.Signals = append(vm.Signals, sig)
	switch sig {
	case 0, syscall.SIGCONT, syscall.SIGSTOP:
	default:
		vm.Running = false
	}
	return nil
}

// Alive reports whether the VM in h runs.
func (d *Driver) Alive(h vmm.Handle) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.lookup(h)
	return ok
}

// Crash marks the VM in h as dead, as if its process died unexpectedly.
func (d *Driver) Crash(h vmm.Handle) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if vm, ok := d.vms[h.PID]; ok {
		vm.Running = false
	}
}

// VM returns a copy of what the fake knows about the VM in h.
func (d *Driver) VM(h vmm.Handle) (VM, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	vm, ok := d.vms[h.PID]
	if !ok {
		return VM{}, false
	}
	c := *vm
	c.Signals = append([]syscall.Signal(nil), vm.Signals...)
	return c, true
}
