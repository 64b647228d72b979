package hostfacts

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bangerdev/banger/internal/network"
	"github.com/bangerdev/banger/internal/preflight"
)

// ViaHelper is the Host of an ordinary user's daemon: facts are read as
// for Real; the one host-wide switch, IPv4 forwarding, is not the user's
// to flip: system install turned it on for the default-route interface
// and the helper for the user's bridge, so the daemon only checks it.
type ViaHelper struct {
	// Bridge is the user's bridge.
	Bridge string
}

var _ Host = ViaHelper{}

// DefaultRouteInterface asks netlink (no privilege needed).
func (ViaHelper) DefaultRouteInterface() (string, error) { return network.DefaultRouteInterface() }

// EnableForwarding checks that IPv4 forwarding is on where NAT'd VM
// traffic passes: the user's bridge and the default-route interface.
func (v ViaHelper) EnableForwarding() error {
	out, err := network.DefaultRouteInterface()
	if err != nil {
		return err
	}
	for _, iface := range []string{v.Bridge, out} {
		on, err := network.Forwarding(iface)
		if err != nil {
			return fmt.Errorf("read IPv4 forwarding of %s: %w", iface, err)
		}
		if !on {
			return fmt.Errorf("IPv4 forwarding is off on %s, so NAT'd VM traffic cannot pass: run 'sudo banger system install --user $USER' again (it turns forwarding on for the default-route interface, which may have changed since)", iface)
		}
	}
	return nil
}

// NATUsable needs the network privilege (the helper set up for this
// account) and a default route; the helper checks the firewall itself.
func (ViaHelper) NATUsable(ctx context.Context) error {
	var problems []string
	if err := preflight.NewChecker().NetPrivileged(); err != nil {
		problems = append(problems, err.Error())
	}
	if _, err := network.DefaultRouteInterface(); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New("nat preflight failed: " + strings.Join(problems, "; "))
}

// Checker returns probes of the real host.
func (ViaHelper) Checker() *preflight.Checker { return preflight.NewChecker() }
