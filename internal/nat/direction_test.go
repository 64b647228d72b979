package nat

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/bangerdev/banger/internal/network"
)

// udpSink counts the datagrams a UDP socket in ns receives, answering each
// with its own text (an echo).
func udpSink(t *testing.T, ns netns.NsHandle, addr string) *atomic.Int32 {
	t.Helper()
	var pc net.PacketConn
	inNetns(t, ns, func() {
		var err error
		if pc, err = net.ListenPacket("udp4", addr); err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { pc.Close() })
	var n atomic.Int32
	go func() {
		buf := make([]byte, 512)
		for {
			k, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			n.Add(1)
			_, _ = pc.WriteTo(buf[:k], from)
		}
	}()
	return &n
}

// tcpAccepts counts the connections a TCP listener in ns accepts.
func tcpAccepts(t *testing.T, ns netns.NsHandle, addr string) *atomic.Int32 {
	t.Helper()
	var ln net.Listener
	inNetns(t, ns, func() {
		var err error
		if ln, err = net.Listen("tcp4", addr); err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { ln.Close() })
	var n atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	return &n
}

// connects reports whether a TCP connection from ns to addr opens.
func connects(t *testing.T, ns netns.NsHandle, addr string) bool {
	t.Helper()
	ok := false
	inNetns(t, ns, func() {
		c, err := net.DialTimeout("tcp4", addr, 700*time.Millisecond)
		if err == nil {
			ok = true
			c.Close()
		}
	})
	return ok
}

// udpSend sends a few datagrams from ns to addr and reports whether an
// echo came back within wait.
func udpSend(t *testing.T, ns netns.NsHandle, addr string, wait time.Duration) bool {
	t.Helper()
	echoed := false
	inNetns(t, ns, func() {
		c, err := net.Dial("udp4", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for i := 0; i < 3; i++ {
			_, _ = c.Write([]byte("ping"))
		}
		_ = c.SetReadDeadline(time.Now().Add(wait))
		buf := make([]byte, 16)
		if n, err := c.Read(buf); err == nil && string(buf[:n]) == "ping" {
			echoed = true
		}
	})
	return echoed
}

func TestInboundForwardDroppedNftables(t *testing.T) { testInboundDropped(t, nftablesLab) }

func TestInboundForwardDroppedIptables(t *testing.T) { testInboundDropped(t, iptablesLab) }

// testInboundDropped: traffic forwarded into the bridge from another
// interface (the uplink) never reaches a VM, NAT or not, TCP or UDP, while
// a NAT VM's own UDP and TCP exchanges with the outside get their replies.
// The sinks count what arrives at the VMs, so a reply dropped on the way
// back cannot pass for a request dropped on the way in.
func testInboundDropped(t *testing.T, mk labFirewall) {
	l := newLab(t)
	fw, in := mk(t, l)
	ctx := context.Background()
	do := func(what string, f func() error) { t.Helper(); doIn(t, in, what, f) }
	udp1, udp2 := udpSink(t, l.vm1, "10.213.0.2:7001"), udpSink(t, l.vm2, "10.213.0.3:7001")
	tcp1, tcp2 := tcpAccepts(t, l.vm1, "10.213.0.2:7000"), tcpAccepts(t, l.vm2, "10.213.0.3:7000")
	udpSink(t, l.outside, "198.18.0.2:7001")
	listen(t, l.outside, "198.18.0.2:7000")

	// Control: without rules the outside reaches both VMs (the lab routes
	// the VM subnet to the host), so the drops below are the rules' doing.
	ok := false
	for i := 0; i < 10 && !ok; i++ {
		ok = udpSend(t, l.outside, "10.213.0.3:7001", 300*time.Millisecond)
	}
	if !ok || !connects(t, l.outside, "10.213.0.2:7000") {
		t.Fatal("without rules the outside does not reach the VMs (lab broken)")
	}

	do("EnsureBase", func() error { return fw.EnsureBase(ctx, "bgtbr0", testSubnet) })
	t.Cleanup(func() { in(func() { _ = fw.Teardown(ctx) }) })
	do("AddVM", func() error {
		return fw.AddVM(ctx, Rule{Name: "vm1", IP: mustRule("", "10.213.0.2", "").IP, Tap: "bgtvm1", OutIface: "up0"})
	})

	// The NAT VM's own exchanges work both ways (replies pass).
	if got := dial(t, l.vm1, "198.18.0.2:7000"); got != "198.18.0.1" {
		t.Fatalf("NAT vm TCP out: outside saw %q, want 198.18.0.1", got)
	}
	if !udpSend(t, l.vm1, "198.18.0.2:7001", time.Second) {
		t.Fatal("NAT vm UDP out: no reply came back")
	}

	udpBefore := [2]int32{udp1.Load(), udp2.Load()}
	tcpBefore := [2]int32{tcp1.Load(), tcp2.Load()}
	for _, dst := range []string{"10.213.0.2", "10.213.0.3"} {
		if udpSend(t, l.outside, dst+":7001", 300*time.Millisecond) {
			t.Errorf("outside -> %s UDP: answered through the firewall", dst)
		}
		if connects(t, l.outside, dst+":7000") {
			t.Errorf("outside -> %s TCP: connected through the firewall", dst)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if got := [2]int32{udp1.Load(), udp2.Load()}; got != udpBefore {
		t.Errorf("datagrams from outside reached the VMs: %v -> %v (vm1, vm2)", udpBefore, got)
	}
	if got := [2]int32{tcp1.Load(), tcp2.Load()}; got != tcpBefore {
		t.Errorf("connections from outside reached the VMs: %v -> %v (vm1, vm2)", tcpBefore, got)
	}
}

// TestDefaultRouteLowestMetric: with two default routes the one of the
// lowest metric names the NAT uplink, whichever link holds it and in
// whichever order the routes were added; routes that are not default
// (0.0.0.0/1) do not count however low their metric.
func TestDefaultRouteLowestMetric(t *testing.T) {
	ns := newNetns(t)
	h := nsHandle(t, ns)
	for i, name := range []string{"bgtupa", "bgtupb"} {
		// A veth pair inside the namespace (no dummy module needed).
		if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: name + "p"}); err != nil {
			t.Fatalf("veth %s: %v", name, err)
		}
		configure(t, h, name+"p", "")
		configure(t, h, name, []string{"192.0.2.1/24", "198.51.100.1/24"}[i])
	}
	gw := map[string]string{"bgtupa": "192.0.2.254", "bgtupb": "198.51.100.254"}
	set := func(metrics map[string]int) {
		t.Helper()
		routes, _ := h.RouteList(nil, netlink.FAMILY_V4)
		for _, r := range routes {
			if r.Gw != nil {
				_ = h.RouteDel(&r)
			}
		}
		for _, name := range []string{"bgtupa", "bgtupb"} {
			l, _ := h.LinkByName(name)
			r := &netlink.Route{LinkIndex: l.Attrs().Index, Gw: net.ParseIP(gw[name]), Priority: metrics[name]}
			if err := h.RouteAdd(r); err != nil {
				t.Fatalf("default route via %s metric %d: %v", name, metrics[name], err)
			}
		}
	}
	for _, tc := range []struct {
		metrics map[string]int
		want    string
	}{
		{map[string]int{"bgtupa": 200, "bgtupb": 100}, "bgtupb"},
		{map[string]int{"bgtupa": 100, "bgtupb": 200}, "bgtupa"},
		{map[string]int{"bgtupa": 600, "bgtupb": 50}, "bgtupb"},
	} {
		set(tc.metrics)
		var got string
		var err error
		inNetns(t, ns, func() { got, err = network.DefaultRouteInterface() })
		if err != nil || got != tc.want {
			t.Errorf("metrics %v: default route interface %q, %v; want %s", tc.metrics, got, err, tc.want)
		}
	}
	// A lower-metric route that is not a default route is not the uplink.
	l, _ := h.LinkByName("bgtupa")
	if err := h.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Dst: ipnet("0.0.0.0/1"), Gw: net.ParseIP(gw["bgtupa"]), Priority: 1}); err != nil {
		t.Fatal(err)
	}
	var got string
	inNetns(t, ns, func() { got, _ = network.DefaultRouteInterface() })
	if got != "bgtupb" {
		t.Errorf("with 0.0.0.0/1 via bgtupa metric 1: %q, want bgtupb", got)
	}
}

func TestRemoveVMLeavesOthersNftables(t *testing.T) { testRemoveLeavesOthers(t, nftablesLab) }

func TestRemoveVMLeavesOthersIptables(t *testing.T) { testRemoveLeavesOthers(t, iptablesLab) }

// testRemoveLeavesOthers: two NAT VMs whose names share a prefix ("web",
// "web2"); removing one removes its rules only: the other still reaches
// the outside masqueraded, in traffic and in List.
func testRemoveLeavesOthers(t *testing.T, mk labFirewall) {
	l := newLab(t)
	fw, in := mk(t, l)
	ctx := context.Background()
	do := func(what string, f func() error) { t.Helper(); doIn(t, in, what, f) }
	const out = "198.18.0.2:7000"
	listen(t, l.outside, out)
	do("EnsureBase", func() error { return fw.EnsureBase(ctx, "bgtbr0", testSubnet) })
	t.Cleanup(func() { in(func() { _ = fw.Teardown(ctx) }) })
	do("AddVM web", func() error {
		return fw.AddVM(ctx, Rule{Name: "web", IP: mustRule("", "10.213.0.2", "").IP, Tap: "bgtvm1", OutIface: "up0"})
	})
	do("AddVM web2", func() error {
		return fw.AddVM(ctx, Rule{Name: "web2", IP: mustRule("", "10.213.0.3", "").IP, Tap: "bgtvm2", OutIface: "up0"})
	})
	got := ""
	for i := 0; i < 10 && got == ""; i++ {
		got = dial(t, l.vm2, out)
	}
	if got != "198.18.0.1" {
		t.Fatalf("web2 before the removal: outside saw %q, want 198.18.0.1", got)
	}
	do("RemoveVM web", func() error { return fw.RemoveVM(ctx, "web") })
	if got := dial(t, l.vm2, out); got != "198.18.0.1" {
		t.Errorf("removing web cut web2 off: outside saw %q", got)
	}
	if got := dial(t, l.vm1, out); got != "" {
		t.Errorf("web still reaches the outside after its removal (seen as %q)", got)
	}
	var rules []Rule
	do("List", func() (err error) { rules, err = fw.List(ctx); return err })
	if len(rules) != 1 || rules[0].Name != "web2" {
		t.Errorf("rules after removing web: %+v, want web2's only", rules)
	}
}
