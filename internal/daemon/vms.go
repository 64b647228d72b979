package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"

	"github.com/bangerdev/banger/internal/bundle"
	"github.com/bangerdev/banger/internal/config"
	"github.com/bangerdev/banger/internal/hostfacts"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/namegen"
	"github.com/bangerdev/banger/internal/paths"
	"github.com/bangerdev/banger/internal/storage"
	"github.com/bangerdev/banger/internal/store"
	"github.com/bangerdev/banger/internal/vmm"
)

// vms is the VM lifecycle: create, boot, stop, suspend and resume,
// snapshots, clone, edit, delete and adoption. Every operation takes the
// VM's lock and asks the transition table (model.VM.Allows) before it
// changes anything; long ones run as steps (internal/steps).
type vms struct {
	store     *store.Store
	cfg       *config.Config
	layout    paths.Layout
	log       *slog.Logger
	subnet    netip.Prefix
	storage   storage.Manager
	host      hostfacts.Host
	checks    *checks
	guests    *guests
	res       *resources
	monitors  *monitors
	drivers   map[string]vmm.Driver
	driver    string
	driverErr error
	namegen   *namegen.Generator
	bundle    *bundle.Resolved

	// reserveMu makes choosing a free address and recording it one step,
	// so concurrent creates never pick the same one.
	reserveMu sync.Mutex

	locksMu sync.Mutex
	locks   map[string]*nameLock

	// resumeWG tracks the background resumption of recorded VMs.
	resumeWG sync.WaitGroup
}

// nameLock is the lock of one VM name and how many callers hold or wait
// for it; the entry is dropped when that reaches zero, so names that come
// and go do not accumulate.
type nameLock struct {
	mu    sync.Mutex
	users int
}

// vmLock serialises operations on one VM name.
func (d *vms) vmLock(name string) func() {
	d.locksMu.Lock()
	l, ok := d.locks[name]
	if !ok {
		l = &nameLock{}
		d.locks[name] = l
	}
	l.users++
	d.locksMu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		d.locksMu.Lock()
		if l.users--; l.users == 0 {
			delete(d.locks, name)
		}
		d.locksMu.Unlock()
	}
}

// loadVM loads a VM record; a missing one is a 404 that says what to do.
func (d *vms) loadVM(ctx context.Context, name string) (*model.VM, error) {
	v, err := d.store.GetVM(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, model.NoSuchVM(name)
	}
	return v, err
}

// driverFor returns the driver that runs v (the one in its VMM handle) or
// will boot it.
func (d *vms) driverFor(v *model.VM) (vmm.Driver, error) {
	name := v.Driver
	if v.State != model.Running || name == "" {
		name = d.driver
	}
	if h, ok := v.Process(); ok && h.Driver != "" {
		name = h.Driver
	}
	return d.driverNamed(name)
}

// driverNamed returns the driver called name; when it is missing, the
// reason no VMM is usable is a precondition error.
func (d *vms) driverNamed(name string) (vmm.Driver, error) {
	drv, ok := d.drivers[name]
	if !ok {
		if d.driverErr != nil {
			return nil, model.Precondition(d.driverErr)
		}
		return nil, fmt.Errorf("vmm driver %q is not available", name)
	}
	return drv, nil
}
