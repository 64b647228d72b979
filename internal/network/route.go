package network

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// DefaultRouteInterface returns the name of the link that carries the IPv4
// default route of the main routing table (the lowest metric wins). NAT uses
// it as the outgoing interface.
func DefaultRouteInterface() (string, error) {
	routes, err := netlink.RouteListFiltered(netlink.FAMILY_V4,
		&netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return "", fmt.Errorf("list routes: %w", err)
	}
	best := -1
	var bestIdx int
	for _, r := range routes {
		if r.Dst != nil {
			if ones, _ := r.Dst.Mask.Size(); ones != 0 {
				continue
			}
		}
		idx := r.LinkIndex
		if idx == 0 && len(r.MultiPath) > 0 {
			idx = r.MultiPath[0].LinkIndex
		}
		if idx == 0 {
			continue
		}
		if best == -1 || r.Priority < best {
			best, bestIdx = r.Priority, idx
		}
	}
	if best == -1 {
		return "", fmt.Errorf("the host has no IPv4 default route, so NAT has nowhere to send VM traffic: connect the host to a network (ip route show default must print a route)")
	}
	link, err := netlink.LinkByIndex(bestIdx)
	if err != nil {
		return "", fmt.Errorf("look up default route link %d: %w", bestIdx, err)
	}
	return link.Attrs().Name, nil
}

// prefixToIPNet converts p (address kept, not masked) to a *net.IPNet.
func prefixToIPNet(p netip.Prefix) *net.IPNet {
	bits := 32
	if p.Addr().Is6() {
		bits = 128
	}
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), bits)}
}

// Overlap names an address or route of another interface that overlaps a
// VM subnet.
type Overlap struct {
	// Prefix is the overlapping address (with its prefix length) or route.
	Prefix netip.Prefix
	// Iface is the interface it belongs to.
	Iface string
	// Route is true for a route, false for an address.
	Route bool
}

// String describes o for an error message.
func (o Overlap) String() string {
	what := "address"
	if o.Route {
		what = "route"
	}
	return fmt.Sprintf("%s %s on %s", what, o.Prefix, o.Iface)
}

// FindOverlap returns the first IPv4 address or main-table route of an
// interface other than own whose prefix overlaps subnet (the default route
// excepted): a VM subnet must not shadow, or be shadowed by, a network the
// host already reaches.
func FindOverlap(subnet netip.Prefix, own string) (Overlap, bool, error) {
	names := map[int]string{}
	links, err := netlink.LinkList()
	if err != nil {
		return Overlap{}, false, fmt.Errorf("list links: %w", err)
	}
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		return Overlap{}, false, fmt.Errorf("list addresses: %w", err)
	}
	for _, a := range addrs {
		p, ok := netipPrefix(a.IPNet)
		if ok && names[a.LinkIndex] != own && !p.Addr().IsLoopback() && p.Masked().Overlaps(subnet) {
			return Overlap{Prefix: p, Iface: names[a.LinkIndex]}, true, nil
		}
	}
	routes, err := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return Overlap{}, false, fmt.Errorf("list routes: %w", err)
	}
	for _, r := range routes {
		p, ok := netipPrefix(r.Dst)
		if !ok || p.Bits() == 0 || names[r.LinkIndex] == own {
			continue
		}
		if p.Overlaps(subnet) {
			return Overlap{Prefix: p, Iface: names[r.LinkIndex], Route: true}, true, nil
		}
	}
	return Overlap{}, false, nil
}

// netipPrefix converts n; false for nil or non-IPv4.
func netipPrefix(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	p, err := netip.ParsePrefix(n.String())
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, false
	}
	return p, true
}
