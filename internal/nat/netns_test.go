package nat

import (
	"net"
	"net/netip"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/bangerdev/banger/internal/testenv"
)

// newNetns creates an anonymous network namespace that lives until the test
// ends (closing the last handle destroys it with all its links and rules).
// The calling thread is left in its original namespace.
func newNetns(t *testing.T) netns.NsHandle {
	t.Helper()
	testenv.RequireRootQuick(t, "creates network namespaces")
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatalf("get netns: %v", err)
	}
	defer orig.Close()
	ns, err := netns.New()
	if err != nil {
		t.Skipf("cannot create a network namespace: %v", err)
	}
	if err := netns.Set(orig); err != nil {
		// Leave the thread locked so it dies instead of being reused.
		runtime.LockOSThread()
		t.Fatalf("return to original netns: %v", err)
	}
	t.Cleanup(func() { ns.Close() })
	h := nsHandle(t, ns)
	lo, err := h.LinkByName("lo")
	if err == nil {
		_ = h.LinkSetUp(lo)
	}
	return ns
}

// inNetns runs fn on a thread that is inside ns.
func inNetns(t *testing.T, ns netns.NsHandle, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("get netns: %v", err)
	}
	defer func() {
		if err := netns.Set(orig); err == nil {
			runtime.UnlockOSThread()
		}
		orig.Close()
	}()
	if err := netns.Set(ns); err != nil {
		t.Fatalf("enter netns: %v", err)
	}
	fn()
}

func nsHandle(t *testing.T, ns netns.NsHandle) *netlink.Handle {
	t.Helper()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatalf("netlink handle: %v", err)
	}
	t.Cleanup(h.Close)
	return h
}

func ipnet(s string) *net.IPNet {
	p := netip.MustParsePrefix(s)
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), 32)}
}

// configure gives link name in h the address cidr and brings it up.
func configure(t *testing.T, h *netlink.Handle, name, cidr string) netlink.Link {
	t.Helper()
	l, err := h.LinkByName(name)
	if err != nil {
		t.Fatalf("link %s: %v", name, err)
	}
	if cidr != "" {
		if err := h.AddrAdd(l, &netlink.Addr{IPNet: ipnet(cidr)}); err != nil {
			t.Fatalf("addr %s on %s: %v", cidr, name, err)
		}
	}
	if err := h.LinkSetUp(l); err != nil {
		t.Fatalf("up %s: %v", name, err)
	}
	return l
}

// veth creates hostName in host and peer "eth0" in peerNS.
func veth(t *testing.T, host *netlink.Handle, hostName string, peerNS netns.NsHandle) {
	t.Helper()
	v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: hostName}, PeerName: "eth0", PeerNamespace: netlink.NsFd(int(peerNS))}
	if err := host.LinkAdd(v); err != nil {
		t.Fatalf("veth %s: %v", hostName, err)
	}
}

func route(t *testing.T, h *netlink.Handle, dst, via string) {
	t.Helper()
	r := &netlink.Route{Gw: net.IP(netip.MustParseAddr(via).AsSlice())}
	if dst != "" {
		r.Dst = ipnet(dst)
	}
	if err := h.RouteAdd(r); err != nil {
		t.Fatalf("route %s via %s: %v", dst, via, err)
	}
}
