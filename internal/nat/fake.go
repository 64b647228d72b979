package nat

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
)

// Fake is an in-memory Firewall for unit tests of code that applies NAT.
type Fake struct {
	mu     sync.Mutex
	bridge string
	subnet netip.Prefix
	rules  map[string]Rule
	// Calls records the method calls in order ("AddVM web", ...).
	Calls []string
}

// NewFake returns an empty fake firewall.
func NewFake() *Fake { return &Fake{rules: map[string]Rule{}} }

var _ Firewall = (*Fake)(nil)

// Backend implements Firewall.
func (f *Fake) Backend() string { return "fake" }

// EnsureBase implements Firewall.
func (f *Fake) EnsureBase(_ context.Context, bridge string, subnet netip.Prefix) error {
	if err := validateBridge(bridge, subnet); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bridge, f.subnet = bridge, subnet
	f.Calls = append(f.Calls, "EnsureBase "+bridge)
	return nil
}

// Base returns the bridge and subnet of the last EnsureBase ("" when none).
func (f *Fake) Base() (string, netip.Prefix) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bridge, f.subnet
}

// AddVM implements Firewall.
func (f *Fake) AddVM(_ context.Context, r Rule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.bridge == "" {
		return errors.New("nat: EnsureBase must run before AddVM")
	}
	f.rules[r.Name] = r
	f.Calls = append(f.Calls, "AddVM "+r.Name)
	return nil
}

// RemoveVM implements Firewall.
func (f *Fake) RemoveVM(_ context.Context, name string) error {
	if err := validateName(name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.rules, name)
	f.Calls = append(f.Calls, "RemoveVM "+name)
	return nil
}

// List implements Firewall.
func (f *Fake) List(context.Context) ([]Rule, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Rule, 0, len(f.rules))
	for _, r := range f.rules {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Rule) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Sync implements Firewall.
func (f *Fake) Sync(ctx context.Context, want []Rule) error { return syncWith(ctx, f, want) }

// Teardown implements Firewall.
func (f *Fake) Teardown(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = map[string]Rule{}
	f.bridge = ""
	f.Calls = append(f.Calls, "Teardown")
	return nil
}
