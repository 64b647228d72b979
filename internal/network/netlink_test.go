package network

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/netip"
	"os"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/bangerdev/banger/internal/testenv"
)

// inFreshNetns runs fn on a thread moved into a new, empty network
// namespace, so nothing the test creates is visible on the host. The
// namespace and all its links vanish when the test returns, even on failure.
func inFreshNetns(t *testing.T, fn func()) {
	t.Helper()
	testenv.RequireRoot(t, "creates a network namespace")
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("get netns: %v", err)
	}
	ns, err := netns.New()
	if err != nil {
		orig.Close()
		runtime.UnlockOSThread()
		t.Skipf("cannot create a network namespace: %v", err)
	}
	defer func() {
		ns.Close()
		if err := netns.Set(orig); err == nil {
			runtime.UnlockOSThread() // otherwise the thread dies with the goroutine
		}
		orig.Close()
	}()
	fn()
}

func randName(t *testing.T, prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func TestNetlinkManagerBridgeAndTaps(t *testing.T) {
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("no /dev/net/tun: load the tun module")
	}
	inFreshNetns(t, func() {
		ctx := context.Background()
		m := NewNetlinkManager()
		br := randName(t, "bgtbr")
		subnet := netip.MustParsePrefix("10.213.7.0/24")
		if err := m.EnsureBridge(ctx, br, subnet); err != nil {
			t.Fatal(err)
		}
		if err := m.EnsureBridge(ctx, br, subnet); err != nil {
			t.Fatalf("second EnsureBridge: %v", err)
		}
		link, err := netlink.LinkByName(br)
		if err != nil {
			t.Fatal(err)
		}
		if link.Type() != "bridge" || link.Attrs().Flags&(1<<0) == 0 {
			t.Fatalf("bridge type %s flags %v", link.Type(), link.Attrs().Flags)
		}
		addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
		if err != nil || len(addrs) != 1 || addrs[0].IPNet.String() != "10.213.7.1/24" {
			t.Fatalf("bridge addrs = %v, %v", addrs, err)
		}

		taps := []string{randName(t, "bgt"), randName(t, "bgt")}
		for _, tap := range taps {
			if err := m.CreateTap(ctx, tap, br); err != nil {
				t.Fatal(err)
			}
			l, err := netlink.LinkByName(tap)
			if err != nil {
				t.Fatal(err)
			}
			tt, ok := l.(*netlink.Tuntap)
			if !ok || tt.Mode != netlink.TUNTAP_MODE_TAP {
				t.Fatalf("%s is %T %v", tap, l, l.Type())
			}
			if tt.Flags&netlink.TUNTAP_MULTI_QUEUE != 0 {
				t.Fatalf("%s is multi-queue", tap)
			}
			if tt.Owner != 0 {
				t.Fatalf("%s owner %d", tap, tt.Owner)
			}
			if l.Attrs().MasterIndex != link.Attrs().Index {
				t.Fatalf("%s not attached to %s", tap, br)
			}
			if l.Attrs().Flags&(1<<0) == 0 {
				t.Fatalf("%s not up", tap)
			}
		}
		if err := m.CreateTap(ctx, taps[0], br); err != nil {
			t.Fatalf("CreateTap on existing tap: %v", err)
		}
		if err := m.CreateTap(ctx, "bgtx", "bgtnobridge"); err == nil {
			t.Fatal("tap created on a missing bridge")
		}
		ports, err := m.Ports(ctx, br)
		if err != nil || len(ports) != 2 {
			t.Fatalf("ports = %v, %v", ports, err)
		}
		if err := m.TeardownBridge(ctx, br); !errors.Is(err, ErrBridgeInUse) {
			t.Fatalf("teardown with ports = %v", err)
		}
		if err := m.DeleteTap(ctx, br); err == nil {
			t.Fatal("DeleteTap deleted a bridge")
		}
		for _, tap := range taps {
			if err := m.DeleteTap(ctx, tap); err != nil {
				t.Fatal(err)
			}
			if _, err := netlink.LinkByName(tap); err == nil {
				t.Fatalf("%s still exists", tap)
			}
			if err := m.DeleteTap(ctx, tap); err != nil {
				t.Fatalf("second DeleteTap: %v", err)
			}
		}
		if err := m.TeardownBridge(ctx, br); err != nil {
			t.Fatal(err)
		}
		if _, err := netlink.LinkByName(br); err == nil {
			t.Fatal("bridge still exists")
		}
		if err := m.TeardownBridge(ctx, br); err != nil {
			t.Fatalf("second teardown: %v", err)
		}
	})
}

func TestDefaultRouteInterface(t *testing.T) {
	inFreshNetns(t, func() {
		if _, err := DefaultRouteInterface(); err == nil {
			t.Fatal("empty netns has a default route?")
		}
		up := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "bgtup0"}, PeerName: "bgtup1"}
		if err := netlink.LinkAdd(up); err != nil {
			t.Fatal(err)
		}
		if err := netlink.AddrAdd(up, &netlink.Addr{IPNet: prefixToIPNet(netip.MustParsePrefix("198.18.0.2/24"))}); err != nil {
			t.Fatal(err)
		}
		if err := netlink.LinkSetUp(up); err != nil {
			t.Fatal(err)
		}
		gw := netip.MustParseAddr("198.18.0.1")
		if err := netlink.RouteAdd(&netlink.Route{LinkIndex: up.Attrs().Index, Gw: gw.AsSlice()}); err != nil {
			t.Fatal(err)
		}
		name, err := DefaultRouteInterface()
		if err != nil || name != "bgtup0" {
			t.Fatalf("DefaultRouteInterface = %q, %v", name, err)
		}
	})
}
