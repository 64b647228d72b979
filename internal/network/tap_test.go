package network

import (
	"context"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ownerlessTap creates a persistent tap no uid owns, as `ip tuntap add`
// without `user` does.
func ownerlessTap(t *testing.T, name string) {
	t.Helper()
	fd, err := unix.Open(tunDevice, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	ifr, _ := unix.NewIfreq(name)
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI | unix.IFF_VNET_HDR)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetInt(fd, unix.TUNSETPERSIST, 1); err != nil {
		t.Fatal(err)
	}
}

// TestTapsAreNeverTakenOver: a tap is created only when its name is free;
// an existing tap is used or deleted only by its own owner, never when
// another uid or nobody owns it, and never moved off another bridge.
func TestTapsAreNeverTakenOver(t *testing.T) {
	if _, err := os.Stat(tunDevice); err != nil {
		t.Skip("no /dev/net/tun: load the tun module")
	}
	inFreshNetns(t, func() {
		ctx := context.Background()
		br, other := randName(t, "bgtbr"), randName(t, "bgtbr")
		root := NewNetlinkManager()
		for i, b := range []string{br, other} {
			if err := root.EnsureBridge(ctx, b, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 213, byte(8 + i), 0}), 24)); err != nil {
				t.Fatal(err)
			}
		}
		user := &NetlinkManager{TapOwner: 1234, TapGroup: 1234}
		tap := TapNameFor(1234, "a1b2c3")
		created, err := user.EnsureTap(ctx, tap, br)
		if err != nil || !created {
			t.Fatalf("first EnsureTap = %v, %v; want a new tap", created, err)
		}
		before, err := ReadLink(tap)
		if err != nil || before.Owner != 1234 || !before.Tap || before.Kind != "tun" {
			t.Fatalf("ReadLink = %+v, %v", before, err)
		}
		if created, err := user.EnsureTap(ctx, tap, br); err != nil || created {
			t.Fatalf("owner's second EnsureTap = %v, %v; want its own tap re-used", created, err)
		}
		if err := root.CreateTap(ctx, tap, br); err == nil || !strings.Contains(err.Error(), "belongs to uid 1234") {
			t.Fatalf("root adopting uid 1234's tap: %v", err)
		}
		if err := root.DeleteTap(ctx, tap); err == nil || !strings.Contains(err.Error(), "belongs to uid 1234") {
			t.Fatalf("root deleting uid 1234's tap through the manager: %v", err)
		}
		if _, err := user.EnsureTap(ctx, tap, other); err == nil || !strings.Contains(err.Error(), "another bridge") {
			t.Fatalf("moving a tap to another bridge: %v", err)
		}
		if after, _ := ReadLink(tap); after != before {
			t.Fatalf("refused requests changed the tap: %+v, was %+v", after, before)
		}

		stray := TapNameFor(1234, "ffff")
		ownerlessTap(t, stray)
		if _, err := user.EnsureTap(ctx, stray, br); err == nil || !strings.Contains(err.Error(), "no owner") {
			t.Fatalf("adopting an ownerless tap: %v", err)
		}
		if l, _ := ReadLink(stray); l.Owner != NoOwner || l.Master != 0 {
			t.Fatalf("the ownerless tap was changed: %+v", l)
		}
		if _, err := user.EnsureTap(ctx, br, br); err == nil || !strings.Contains(err.Error(), "bridge link") {
			t.Fatalf("a tap named like an existing bridge: %v", err)
		}
		if err := user.DeleteTap(ctx, tap); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadLink(tap); err == nil {
			t.Fatal("the owner's DeleteTap left the tap")
		}
		if n, err := RemoveTapPorts(br); err != nil || n != 0 {
			t.Fatalf("RemoveTapPorts on an empty bridge = %d, %v", n, err)
		}
		if _, err := user.EnsureTap(ctx, tap, br); err != nil {
			t.Fatal(err)
		}
		if n, err := RemoveTapPorts(br); err != nil || n != 1 {
			t.Fatalf("RemoveTapPorts = %d, %v; want the one tap", n, err)
		}
		_ = deleteIndex(mustIndex(t, stray))
	})
}

func mustIndex(t *testing.T, name string) int {
	t.Helper()
	l, err := ReadLink(name)
	if err != nil {
		t.Fatal(err)
	}
	return l.Index
}

// TestBridgeHasNoIPv6AndForwardsAlone: a new bridge comes up with IPv6
// off (no router advertisement can reach the host through it) and IPv4
// forwarding on for itself, whatever the host-wide defaults.
func TestBridgeHasNoIPv6AndForwardsAlone(t *testing.T) {
	inFreshNetns(t, func() {
		if err := os.WriteFile("/proc/sys/net/ipv6/conf/default/accept_ra", []byte("2"), 0o644); err != nil {
			t.Skipf("no IPv6 sysctls in this netns: %v", err)
		}
		br := randName(t, "bgtbr")
		if err := NewNetlinkManager().EnsureBridge(context.Background(), br, netip.MustParsePrefix("10.213.9.0/24")); err != nil {
			t.Fatal(err)
		}
		if off, err := IPv6Off(br); err != nil || !off {
			t.Fatalf("IPv6Off(%s) = %v, %v", br, off, err)
		}
		if on, err := Forwarding(br); err != nil || !on {
			t.Fatalf("Forwarding(%s) = %v, %v", br, on, err)
		}
		if on, _ := Forwarding("lo"); on {
			t.Fatal("EnsureBridge turned forwarding on for another interface")
		}
		b, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
		if strings.TrimSpace(string(b)) != "0" {
			t.Fatalf("EnsureBridge changed net.ipv4.ip_forward to %s", b)
		}
	})
}

// TestFindOverlap: another interface's address or route that overlaps a
// subnet is found; the bridge's own are not.
func TestFindOverlap(t *testing.T) {
	inFreshNetns(t, func() {
		br := randName(t, "bgtbr")
		if err := NewNetlinkManager().EnsureBridge(context.Background(), br, netip.MustParsePrefix("10.214.3.0/24")); err != nil {
			t.Fatal(err)
		}
		if o, found, err := FindOverlap(netip.MustParsePrefix("10.214.3.0/24"), br); err != nil || found {
			t.Fatalf("own bridge counted as overlap: %v %v %v", o, found, err)
		}
		d := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "bgtdocker0"}}
		if err := netlink.LinkAdd(d); err != nil {
			t.Fatal(err)
		}
		_ = netlink.LinkSetUp(d)
		addr, _ := netlink.ParseAddr("10.214.0.1/16")
		if err := netlink.AddrAdd(d, addr); err != nil {
			t.Fatal(err)
		}
		o, found, err := FindOverlap(netip.MustParsePrefix("10.214.3.0/24"), br)
		if err != nil || !found || o.Iface != "bgtdocker0" || !strings.Contains(o.String(), "10.214.0.1/16") {
			t.Fatalf("FindOverlap = %v %v %v; want the dummy's /16", o, found, err)
		}
		if _, found, _ := FindOverlap(netip.MustParsePrefix("10.215.0.0/24"), br); found {
			t.Fatal("a disjoint subnet reported as overlapping")
		}
	})
}
