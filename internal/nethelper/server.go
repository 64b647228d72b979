package nethelper

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/bangerdev/banger/internal/nat"
	"github.com/bangerdev/banger/internal/network"
	"github.com/bangerdev/banger/internal/system"
)

// tapRE is the only tap name shape the helper touches: banger's prefix and
// lower-case letters and digits (network.TapName).
var tapRE = regexp.MustCompile(`^` + network.TapPrefix + `[a-z0-9]{1,12}$`)

// Host is what the server changes; Real uses netlink and nftables.
type Host struct {
	// Net manages links; its taps are owned by the caller.
	Net network.Manager
	// Firewall builds the caller's firewall; nil uses nat.DetectFor.
	Firewall func(ctx context.Context, a system.Allocation) (nat.Firewall, error)
	// TapOwner returns the uid owning an existing tap (-1 for none) and
	// its bridge ("" for none), or network.ErrNotFound.
	TapOwner func(tap string) (uid int, master string, err error)
	// DefaultRoute names the host's default-route interface.
	DefaultRoute func() (string, error)
	// EnableForwarding turns on IPv4 forwarding.
	EnableForwarding func() error
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
		TapOwner:         sysfsTapOwner,
		DefaultRoute:     network.DefaultRouteInterface,
		EnableForwarding: nat.EnableForwarding,
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
		return resp, h.Net.EnsureBridge(ctx, a.Bridge, a.Subnet)
	case OpTeardownBridge:
		return resp, h.Net.TeardownBridge(ctx, a.Bridge)
	case OpCreateTap, OpDeleteTap:
		if err := checkTap(h, a, req.Tap); err != nil {
			return resp, err
		}
		if req.Op == OpCreateTap {
			return resp, h.Net.CreateTap(ctx, req.Tap, a.Bridge)
		}
		return resp, h.Net.DeleteTap(ctx, req.Tap)
	case OpForwarding:
		return resp, h.EnableForwarding()
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
		if req.Op == OpFirewallAdd && len(req.Rules) != 1 {
			return resp, errors.New("fw-add takes exactly one rule")
		}
		if err := checkRules(h, a, req.Rules); err != nil {
			return resp, err
		}
		if err := fw.EnsureBase(ctx, a.Bridge, a.Subnet); err != nil {
			return resp, err
		}
		if req.Op == OpFirewallAdd {
			return resp, fw.AddVM(ctx, toNAT(req.Rules)[0])
		}
		return resp, fw.Sync(ctx, toNAT(req.Rules))
	case OpFirewallRemove:
		return resp, fw.RemoveVM(ctx, req.Name)
	case OpFirewallList:
		rules, err := fw.List(ctx)
		resp.Rules = fromNAT(rules)
		return resp, err
	case OpFirewallDown:
		return resp, fw.Teardown(ctx)
	}
	return resp, fmt.Errorf("unknown operation %q", req.Op)
}

// checkTap allows a tap named like banger's that is either absent or owned
// by the caller and attached to nothing or to the caller's bridge.
func checkTap(h Host, a system.Allocation, tap string) error {
	if !tapRE.MatchString(tap) {
		return fmt.Errorf("refused: tap name %q is not one banger creates (%s followed by up to 12 letters or digits)", tap, network.TapPrefix)
	}
	uid, master, err := h.TapOwner(tap)
	if errors.Is(err, network.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if uid != a.UID {
		return fmt.Errorf("refused: tap %s belongs to uid %d, not to you (uid %d)", tap, uid, a.UID)
	}
	if master != "" && master != a.Bridge {
		return fmt.Errorf("refused: tap %s is attached to %s, not to your bridge %s", tap, master, a.Bridge)
	}
	return nil
}

// checkRules allows NAT only for addresses of the caller's subnet (not
// its gateway) out of the host's default-route interface.
func checkRules(h Host, a system.Allocation, rules []Rule) error {
	out, err := h.DefaultRoute()
	if err != nil {
		return err
	}
	gw := network.Gateway(a.Subnet)
	for _, r := range rules {
		if !a.Subnet.Contains(r.IP) || r.IP == gw || r.IP == a.Subnet.Addr() {
			return fmt.Errorf("refused: NAT for %s: the address %s is not a VM address of your subnet %s", r.Name, r.IP, a.Subnet)
		}
		if r.OutIface != out {
			return fmt.Errorf("refused: NAT for %s out of %q: only the host's default-route interface %s is allowed", r.Name, r.OutIface, out)
		}
	}
	return nil
}

// sysfsTapOwner reads a tap's owner uid and bridge from sysfs.
func sysfsTapOwner(tap string) (int, string, error) {
	dir := "/sys/class/net/" + tap
	b, err := os.ReadFile(dir + "/owner")
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(dir); errors.Is(serr, os.ErrNotExist) {
			return 0, "", network.ErrNotFound
		}
		return 0, "", fmt.Errorf("refused: %s exists and is not a tap", tap)
	}
	if err != nil {
		return 0, "", err
	}
	uid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, "", fmt.Errorf("read owner of %s: %w", tap, err)
	}
	master := ""
	if l, err := os.Readlink(dir + "/master"); err == nil {
		master = l[strings.LastIndex(l, "/")+1:]
	}
	return uid, master, nil
}

// sendDNSSockets binds UDP and TCP port 53 on the caller's gateway address
// and passes both to the caller, which serves .vm names on them.
func sendDNSSockets(a system.Allocation, out *os.File) error {
	if out == nil {
		return errors.New("dns-sockets needs a socket on fd 3")
	}
	addr := netip.AddrPortFrom(network.Gateway(a.Subnet), 53).String()
	pc, err := net.ListenPacket("udp4", addr)
	if err != nil {
		return fmt.Errorf("bind udp %s: %w: is your bridge up (banger creates it) and nothing else serving DNS there?", addr, err)
	}
	defer pc.Close()
	ln, err := net.Listen("tcp4", addr)
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
