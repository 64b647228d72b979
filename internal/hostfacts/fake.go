package hostfacts

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sync"

	"github.com/bangerdev/banger/internal/preflight"
)

// Fake is a Host whose answers are fields. The zero value is a host with
// a default route through "eth0", every program installed, every device
// usable, KVM usable and root privilege; set fields to simulate less.
type Fake struct {
	mu sync.Mutex
	// Route is the default-route interface; empty means "eth0".
	Route string
	// RouteErr, when set, is returned instead of a route.
	RouteErr error
	// ForwardErr, when set, makes EnableForwarding fail.
	ForwardErr error
	// NATErr, when set, makes NATUsable fail.
	NATErr error
	// NotRoot makes the root and network-privilege probes fail.
	NotRoot bool
	// Missing names programs, files and devices that probes do not find.
	Missing map[string]bool
	// KVMErr, when set, makes the KVM probe fail.
	KVMErr error

	forwarding bool
}

var _ Host = (*Fake)(nil)

// DefaultRouteInterface returns Route or RouteErr.
func (f *Fake) DefaultRouteInterface() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.RouteErr != nil {
		return "", f.RouteErr
	}
	if f.Route == "" {
		return "eth0", nil
	}
	return f.Route, nil
}

// EnableForwarding records that forwarding is on, or returns ForwardErr.
func (f *Fake) EnableForwarding() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ForwardErr != nil {
		return f.ForwardErr
	}
	f.forwarding = true
	return nil
}

// Forwarding reports whether EnableForwarding succeeded.
func (f *Fake) Forwarding() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.forwarding
}

// NATUsable returns NATErr, or the route error when there is no route.
func (f *Fake) NATUsable(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.NATErr != nil {
		return f.NATErr
	}
	return f.RouteErr
}

// Checker returns probes answered from the fields: programs resolve to
// /usr/bin/NAME, files exist unless Missing, devices open.
func (f *Fake) Checker() *preflight.Checker {
	missing := func(name string) bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.Missing[name]
	}
	return &preflight.Checker{
		LookPath: func(name string) (string, error) {
			if missing(name) {
				return "", errors.New("not found")
			}
			return "/usr/bin/" + name, nil
		},
		IsRoot: func() bool { return !f.NotRoot },
		Stat: func(path string) (fs.FileInfo, error) {
			if missing(path) {
				return nil, fs.ErrNotExist
			}
			// Files the daemon checks (kernel, base image) are real test
			// files when they exist; anything else is taken as present.
			if fi, err := os.Stat(path); err == nil {
				return fi, nil
			}
			return os.Stat(os.DevNull)
		},
		OpenDevice: func(path string, write bool) error {
			if missing(path) {
				return errors.New("device not found")
			}
			return nil
		},
		KVM: func() error { return f.KVMErr },
		NetPrivileged: func() error {
			if f.NotRoot {
				return errors.New("this account is not set up for banger yet: run 'sudo banger system install --user $USER' once")
			}
			return nil
		},
	}
}
