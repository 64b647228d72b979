package network

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
)

// Fake is an in-memory Manager for unit tests of code that drives the VM
// network. It enforces the same rules as the real one (bridge must exist
// before taps, no teardown while ports are attached).
type Fake struct {
	mu      sync.Mutex
	bridges map[string]netip.Prefix // bridge → gateway address with prefix
	taps    map[string]string       // tap → bridge
	foreign map[string]int          // taps another uid owns → that uid
}

// NewFake returns an empty fake network.
func NewFake() *Fake {
	return &Fake{bridges: map[string]netip.Prefix{}, taps: map[string]string{}, foreign: map[string]int{}}
}

var _ Manager = (*Fake)(nil)

// EnsureBridge implements Manager.
func (f *Fake) EnsureBridge(_ context.Context, name string, subnet netip.Prefix) error {
	if err := validIfaceName(name); err != nil {
		return fmt.Errorf("ensure bridge: %w", err)
	}
	if err := ValidateSubnet(subnet); err != nil {
		return fmt.Errorf("ensure bridge %s: %w", name, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, isTap := f.taps[name]; isTap {
		return fmt.Errorf("ensure bridge %s: a tuntap link of that name already exists", name)
	}
	f.bridges[name] = GatewayPrefix(subnet)
	return nil
}

// TeardownBridge implements Manager.
func (f *Fake) TeardownBridge(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.bridges[name]; !ok {
		return nil
	}
	for _, br := range f.taps {
		if br == name {
			return fmt.Errorf("tear down bridge %s: %w", name, ErrBridgeInUse)
		}
	}
	delete(f.bridges, name)
	return nil
}

// CreateTap implements Manager.
func (f *Fake) CreateTap(ctx context.Context, name, bridge string) error {
	_, err := f.EnsureTap(ctx, name, bridge)
	return err
}

// EnsureTap is CreateTap reporting whether the tap is new; like the real
// one it refuses a tap another uid owns and one on another bridge.
func (f *Fake) EnsureTap(_ context.Context, name, bridge string) (bool, error) {
	if err := validIfaceName(name); err != nil {
		return false, fmt.Errorf("create tap: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.bridges[bridge]; !ok {
		return false, fmt.Errorf("create tap %s: bridge %s does not exist", name, bridge)
	}
	if _, ok := f.bridges[name]; ok {
		return false, fmt.Errorf("create tap %s: refused: a bridge link called %s already exists", name, name)
	}
	if uid, ok := f.foreign[name]; ok {
		return false, fmt.Errorf("create tap %s: refused: tap %s belongs to %s, not to you", name, name, ownerString(int64(uid)))
	}
	if br, ok := f.taps[name]; ok && br != bridge {
		return false, fmt.Errorf("create tap %s: refused: it is attached to another bridge (%s), not to %s", name, br, bridge)
	}
	_, existed := f.taps[name]
	f.taps[name] = bridge
	return !existed, nil
}

// AddForeignTap records a tap that uid (not the fake's user) owns.
func (f *Fake) AddForeignTap(name string, uid int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.foreign[name] = uid
}

// Taps returns how many taps the fake's user holds.
func (f *Fake) Taps() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.taps)
}

// DeleteTap implements Manager.
func (f *Fake) DeleteTap(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if uid, ok := f.foreign[name]; ok {
		return fmt.Errorf("delete tap %s: refused: tap %s belongs to %s, not to you", name, name, ownerString(int64(uid)))
	}
	delete(f.taps, name)
	return nil
}

// Ports implements Manager.
func (f *Fake) Ports(_ context.Context, bridge string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.bridges[bridge]; !ok {
		return nil, fmt.Errorf("list ports of %s: %s: %w", bridge, bridge, ErrNotFound)
	}
	var out []string
	for tap, br := range f.taps {
		if br == bridge {
			out = append(out, tap)
		}
	}
	slices.Sort(out)
	return out, nil
}

// BridgeAddr returns the gateway address the fake gave bridge, if it exists.
func (f *Fake) BridgeAddr(bridge string) (netip.Prefix, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.bridges[bridge]
	return p, ok
}

// HasTap reports whether tap exists and which bridge it is attached to.
func (f *Fake) HasTap(tap string) (bridge string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	bridge, ok = f.taps[tap]
	return bridge, ok
}
