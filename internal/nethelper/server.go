package nethelper

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/bangerdev/banger/internal/nat"
	"github.com/bangerdev/banger/internal/network"
	"github.com/bangerdev/banger/internal/system"
)

// Net is the link manager the helper acts through: a network.Manager that
// also says whether CreateTap made a new tap (network.NetlinkManager).
type Net interface {
	network.Manager
	// EnsureTap is CreateTap reporting whether the tap is new.
	EnsureTap(ctx context.Context, name, bridge string) (created bool, err error)
}

// Host is what the server changes; RealHost uses netlink and nftables.
type Host struct {
	// Net manages links; its taps are owned by the caller and it refuses
	// to use or delete any tap the caller does not own.
	Net Net
	// Firewall builds the caller's firewall; nil uses nat.DetectFor.
	Firewall func(ctx context.Context, a system.Allocation) (nat.Firewall, error)
	// CountTaps returns how many taps uid owns.
	CountTaps func(uid int) (int, error)
	// Overlap finds another interface's address or route overlapping a
	// subnet (network.FindOverlap).
	Overlap func(subnet netip.Prefix, own string) (network.Overlap, bool, error)
	// DefaultRoute names the host's default-route interface.
	DefaultRoute func() (string, error)
}

// RealHost is the Host for the caller's uid and gid on this machine.
func RealHost(uid, gid int) Host {
	return Host{
		Net: &network.NetlinkManager{TapOwner: uint32(uid), TapGroup: uint32(gid)},
		Firewall: func(ctx context.Context, a system.Allocation) (nat.Firewall, error) {
			fw, _, err := nat.DetectFor(ctx, a.Bridge)
			if err != nil {
				return nil, err
			}
			if n, ok := fw.(*nat.Nftables); ok {
				owner := a.UID
				n.Owner = &owner
			}
			return fw, nil
		},
		CountTaps:    network.CountTaps,
		Overlap:      network.FindOverlap,
		DefaultRoute: network.DefaultRouteInterface,
	}
}

// Serve performs req for the caller whose allocation is a. fdOut, when the
// request asks for sockets, receives them as SCM_RIGHTS.
func Serve(ctx context.Context, h Host, a system.Allocation, req Request, fdOut *os.File) Response {
	resp, err := serve(ctx, h, a, req, fdOut)
	if err != nil {
		resp.Error = err.Error()
	}
	return resp
}

func serve(ctx context.Context, h Host, a system.Allocation, req Request, fdOut *os.File) (Response, error) {
	var resp Response
	switch req.Op {
	case OpInfo:
		return Response{Bridge: a.Bridge, Subnet: a.Subnet}, nil
	case OpEnsureBridge:
		return resp, ensureBridge(ctx, h, a)
	case OpTeardownBridge:
		return resp, teardownBridge(ctx, h, a)
	case OpCreateTap:
		return resp, createTap(ctx, h, a, req.Tap)
	case OpDeleteTap:
		if err := checkTapName(a, req.Tap); err != nil {
			return resp, err
		}
		return resp, h.Net.DeleteTap(ctx, req.Tap)
	case OpForwarding:
		return resp, errors.New("refused: enable-forwarding is no longer a request: 'sudo banger system install' enables IPv4 forwarding on the host's default-route interface once, and each bridge forwards from the moment it exists; run install again if NAT says forwarding is off")
	case OpFirewallDown:
		return resp, errors.New("refused: the firewall base rules keep your bridge host-only and go only with the bridge itself (teardown-bridge, once no VM uses it)")
	case OpDNSSockets:
		return resp, sendDNSSockets(a, fdOut)
	}
	if !strings.HasPrefix(req.Op, "fw-") {
		return resp, fmt.Errorf("unknown operation %q: banger and banger-nethelper differ in version; run 'sudo banger system install' again", req.Op)
	}
	fw, err := h.Firewall(ctx, a)
	if err != nil {
		return resp, err
	}
	resp.Backend = fw.Backend()
	switch req.Op {
	case OpFirewallBase:
		return resp, fw.EnsureBase(ctx, a.Bridge, a.Subnet)
	case OpFirewallAdd, OpFirewallSync:
		return resp, natRules(ctx, h, fw, a, req)
	case OpFirewallRemove:
		return resp, fw.RemoveVM(ctx, req.Name)
	case OpFirewallList:
		rules, err := fw.List(ctx)
		resp.Rules = fromNAT(rules)
		return resp, err
	}
	return resp, fmt.Errorf("unknown operation %q", req.Op)
}

// ensureBridge makes the caller's bridge: refused while another interface
// has an address or route overlapping the caller's subnet; the firewall
// base rules come first, so the bridge is never up without them.
func ensureBridge(ctx context.Context, h Host, a system.Allocation) error {
	o, found, err := h.Overlap(a.Subnet, a.Bridge)
	if err != nil {
		return err
	}
	if found {
		return fmt.Errorf("refused: your VM subnet %s overlaps the %s, so your VMs would shadow that network (or it theirs): ask the administrator to move you to a free subnet with 'sudo banger system uninstall --user %s && sudo banger system install --user %s'", a.Subnet, o, a.User, a.User)
	}
	fw, err := h.Firewall(ctx, a)
	if err != nil {
		return err
	}
	if err := fw.EnsureBase(ctx, a.Bridge, a.Subnet); err != nil {
		return err
	}
	return h.Net.EnsureBridge(ctx, a.Bridge, a.Subnet)
}

// teardownBridge removes the caller's bridge (refused while taps are on
// it) and then its firewall table.
func teardownBridge(ctx context.Context, h Host, a system.Allocation) error {
	if err := h.Net.TeardownBridge(ctx, a.Bridge); err != nil {
		return err
	}
	fw, err := h.Firewall(ctx, a)
	if err != nil {
		return err
	}
	return fw.Teardown(ctx)
}

// createTap makes (or re-attaches) one of the caller's taps, within the
// caller's tap limit: a new tap that takes the caller over the limit is
// removed again, so concurrent requests can never leave more than it.
func createTap(ctx context.Context, h Host, a system.Allocation, tap string) error {
	if err := checkTapName(a, tap); err != nil {
		return err
	}
	created, err := h.Net.EnsureTap(ctx, tap, a.Bridge)
	if err != nil || !created {
		return err
	}
	n, err := h.CountTaps(a.UID)
	if err == nil && n <= a.MaxTaps {
		return nil
	}
	if err == nil {
		err = fmt.Errorf("refused: you already have %d taps, the limit set in %s (max_taps): stop or delete VMs you do not use, or ask the administrator to raise it", a.MaxTaps, system.RegistryPath)
	}
	if derr := h.Net.DeleteTap(ctx, tap); derr != nil {
		return fmt.Errorf("%w; removing the new tap %s also failed: %v", err, tap, derr)
	}
	return err
}

// checkTapName allows only tap names of the caller's own prefix, so no
// account can create, hold or delete a name another account's VMs use.
func checkTapName(a system.Allocation, tap string) error {
	if !network.IsTapNameOf(a.UID, tap) {
		return fmt.Errorf("refused: tap name %q is not one of yours: yours are %s followed by letters or digits, 15 characters at most", tap, network.TapPrefixFor(a.UID))
	}
	return nil
}

// natRules adds one VM's NAT (fw-add) or makes the caller's NAT exactly
// the given rules (fw-sync), within the caller's NAT limit and with one
// rule set per VM address.
func natRules(ctx context.Context, h Host, fw nat.Firewall, a system.Allocation, req Request) error {
	if req.Op == OpFirewallAdd && len(req.Rules) != 1 {
		return errors.New("fw-add takes exactly one rule")
	}
	if len(req.Rules) > a.MaxNAT {
		return fmt.Errorf("refused: %d NAT rules asked for, the limit set in %s (max_nat) is %d: turn NAT off on VMs that do not need it", len(req.Rules), system.RegistryPath, a.MaxNAT)
	}
	if err := checkRules(h, a, req.Rules); err != nil {
		return err
	}
	if req.Op == OpFirewallSync {
		if err := fw.EnsureBase(ctx, a.Bridge, a.Subnet); err != nil {
			return err
		}
		return fw.Sync(ctx, toNAT(req.Rules))
	}
	r := toNAT(req.Rules)[0]
	have, err := fw.List(ctx)
	if err != nil {
		return err
	}
	others := 0
	for _, o := range have {
		switch {
		case o.Name == r.Name:
		case o.IP == r.IP: // the address moved to r's VM: one rule set per address
			if err := fw.RemoveVM(ctx, o.Name); err != nil {
				return err
			}
		default:
			others++
		}
	}
	if others >= a.MaxNAT {
		return fmt.Errorf("refused: you already have %d VMs with NAT, the limit set in %s (max_nat): turn NAT off on one first ('banger vm set NAME --no-nat')", others, system.RegistryPath)
	}
	if err := fw.EnsureBase(ctx, a.Bridge, a.Subnet); err != nil {
		return err
	}
	return fw.AddVM(ctx, r)
}

// checkRules allows NAT only for addresses of the caller's subnet (not
// its gateway) out of the host's default-route interface.
func checkRules(h Host, a system.Allocation, rules []Rule) error {
	out, err := h.DefaultRoute()
	if err != nil {
		return err
	}
	gw := network.Gateway(a.Subnet)
	names, addrs := map[string]bool{}, map[netip.Addr]bool{}
	for _, r := range rules {
		if !a.Subnet.Contains(r.IP) || r.IP == gw || r.IP == a.Subnet.Masked().Addr() || r.IP == broadcast(a.Subnet) {
			return fmt.Errorf("refused: NAT for %s: the address %s is not a VM address of your subnet %s", r.Name, r.IP, a.Subnet)
		}
		if names[r.Name] || addrs[r.IP] {
			return fmt.Errorf("refused: NAT for %s at %s: each VM name and address may appear once", r.Name, r.IP)
		}
		names[r.Name], addrs[r.IP] = true, true
		if r.OutIface != out {
			return fmt.Errorf("refused: NAT for %s out of %q: only the host's default-route interface %s is allowed", r.Name, r.OutIface, out)
		}
	}
	return nil
}

// broadcast is the last address of an IPv4 subnet.
func broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// sendDNSSockets binds UDP and TCP port 53 on the caller's gateway address,
// each bound to the caller's bridge device (SO_BINDTODEVICE), and passes
// both to the caller, which serves .vm names on them. Bound to the device,
// they receive only queries that arrive on that bridge, from the caller's
// own VMs: not from other accounts' processes or VMs, and not on a bridge
// that later gets the same subnet (a new bridge has a new index).
func sendDNSSockets(a system.Allocation, out *os.File) error {
	if out == nil {
		return errors.New("dns-sockets needs a socket on fd 3")
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, a.Bridge)
		})
		if err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("bind to device %s: %w", a.Bridge, serr)
		}
		return nil
	}}
	ctx := context.Background()
	addr := netip.AddrPortFrom(network.Gateway(a.Subnet), 53).String()
	pc, err := lc.ListenPacket(ctx, "udp4", addr)
	if err != nil {
		return fmt.Errorf("bind udp %s: %w: is your bridge up (banger creates it) and nothing else serving DNS there?", addr, err)
	}
	defer pc.Close()
	ln, err := lc.Listen(ctx, "tcp4", addr)
	if err != nil {
		return fmt.Errorf("bind tcp %s: %w", addr, err)
	}
	defer ln.Close()
	uf, err := pc.(*net.UDPConn).File()
	if err != nil {
		return err
	}
	defer uf.Close()
	tf, err := ln.(*net.TCPListener).File()
	if err != nil {
		return err
	}
	defer tf.Close()
	rights := unix.UnixRights(int(uf.Fd()), int(tf.Fd()))
	return unix.Sendmsg(int(out.Fd()), []byte("dns"), rights, nil, 0)
}
