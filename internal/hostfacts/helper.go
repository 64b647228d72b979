package hostfacts

import (
	"context"
	"errors"
	"strings"

	"github.com/bangerdev/banger/internal/network"
	"github.com/bangerdev/banger/internal/preflight"
)

// Forwarder turns on IPv4 forwarding on a user's behalf
// (nethelper.Client).
type Forwarder interface {
	// EnableForwarding turns on IPv4 forwarding.
	EnableForwarding(ctx context.Context) error
}

// ViaHelper is the Host of an ordinary user's daemon: facts are read as
// for Real, and the one host-wide switch goes through the network helper.
type ViaHelper struct {
	// Helper is the network helper client.
	Helper Forwarder
}

var _ Host = ViaHelper{}

// DefaultRouteInterface asks netlink (no privilege needed).
func (ViaHelper) DefaultRouteInterface() (string, error) { return network.DefaultRouteInterface() }

// EnableForwarding asks the helper.
func (v ViaHelper) EnableForwarding() error {
	return v.Helper.EnableForwarding(context.Background())
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
