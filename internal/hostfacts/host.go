// Package hostfacts is the daemon's one door to host-wide facts and
// switches that are not a VM's own resources: the default-route interface
// NAT sends traffic out of, the IPv4 forwarding sysctl, whether NAT can be
// set up at all, and the preflight probes (programs, files, devices,
// privilege, KVM). Real asks the host; Fake answers from fields so daemon
// unit tests run without root and without touching the host.
package hostfacts

import (
	"context"

	"github.com/bangerdev/banger/internal/nat"
	"github.com/bangerdev/banger/internal/network"
	"github.com/bangerdev/banger/internal/preflight"
)

// Host answers the daemon's host-wide questions.
type Host interface {
	// DefaultRouteInterface names the link of the host's IPv4 default
	// route, or explains why there is none.
	DefaultRouteInterface() (string, error)
	// EnableForwarding turns on IPv4 forwarding (idempotent).
	EnableForwarding() error
	// NATUsable reports whether NAT can be set up: a firewall backend,
	// a writable ip_forward and a default route.
	NATUsable(ctx context.Context) error
	// Checker returns the preflight probes for this host.
	Checker() *preflight.Checker
}

// Real is the Host as the kernel and filesystem see it.
type Real struct{}

var _ Host = Real{}

// DefaultRouteInterface asks netlink for the default route.
func (Real) DefaultRouteInterface() (string, error) { return network.DefaultRouteInterface() }

// EnableForwarding writes net.ipv4.ip_forward.
func (Real) EnableForwarding() error { return nat.EnableForwarding() }

// NATUsable runs the NAT preflight against the host.
func (Real) NATUsable(ctx context.Context) error { return nat.Check(ctx) }

// Checker returns probes of the real host.
func (Real) Checker() *preflight.Checker { return preflight.NewChecker() }
