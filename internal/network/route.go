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
