package nethelper

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/nat"
	"github.com/bangerdev/banger/internal/network"
	"github.com/bangerdev/banger/internal/system"
)

var alice = system.Allocation{User: "alice", UID: 1001, Bridge: "bgu1001", Subnet: netip.MustParsePrefix("172.30.1.0/24"), MaxTaps: 3, MaxNAT: 2}

// aliceTap is a tap name of alice's own prefix.
func aliceTap(s string) string { return network.TapPrefixFor(1001) + s }

// fakeHost is a Host over in-memory network and firewall fakes.
func fakeHost() (Host, *network.Fake, *nat.Fake) {
	nf, ff := network.NewFake(), nat.NewFake()
	return Host{
		Net:          nf,
		Firewall:     func(context.Context, system.Allocation) (nat.Firewall, error) { return ff, nil },
		CountTaps:    func(int) (int, error) { return nf.Taps(), nil },
		Overlap:      func(netip.Prefix, string) (network.Overlap, bool, error) { return network.Overlap{}, false, nil },
		DefaultRoute: func() (string, error) { return "eth0", nil },
	}, nf, ff
}

func TestHelperDoesWhatTheCallerMay(t *testing.T) {
	h, nf, ff := fakeHost()
	ctx := context.Background()
	for _, req := range []Request{
		{Op: OpEnsureBridge},
		{Op: OpCreateTap, Tap: aliceTap("0a1b2c3d")},
		{Op: OpCreateTap, Tap: aliceTap("0a1b2c3d")}, // again: its own tap, re-attached
		{Op: OpFirewallAdd, Rules: []Rule{{Name: "web", IP: netip.MustParseAddr("172.30.1.7"), OutIface: "eth0"}}},
	} {
		if r := Serve(ctx, h, alice, req, nil); r.Error != "" {
			t.Fatalf("%s: %s", req.Op, r.Error)
		}
	}
	if p, ok := nf.BridgeAddr("bgu1001"); !ok || p.String() != "172.30.1.1/24" {
		t.Errorf("bridge = %v %v; want the caller's gateway 172.30.1.1/24", p, ok)
	}
	if br, ok := nf.HasTap(aliceTap("0a1b2c3d")); !ok || br != "bgu1001" {
		t.Errorf("tap on %q (%v); want the caller's bridge", br, ok)
	}
	if bridge, _ := ff.Base(); bridge != "bgu1001" {
		t.Errorf("ensure-bridge left the firewall base on %q; want it on the caller's bridge", bridge)
	}
	if rules, _ := ff.List(ctx); len(rules) != 1 || rules[0].Name != "web" {
		t.Errorf("rules = %+v", rules)
	}
	if r := Serve(ctx, h, alice, Request{Op: OpInfo}, nil); r.Bridge != "bgu1001" || r.Subnet != alice.Subnet {
		t.Errorf("info = %+v", r)
	}
}

func TestHelperRefusesWhatIsNotTheCallers(t *testing.T) {
	h, nf, ff := fakeHost()
	ctx := context.Background()
	if r := Serve(ctx, h, alice, Request{Op: OpEnsureBridge}, nil); r.Error != "" {
		t.Fatal(r.Error)
	}
	nf.AddForeignTap(aliceTap("squat"), 0)
	ip := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	cases := []struct {
		req  Request
		want string
	}{
		{Request{Op: OpCreateTap, Tap: "eth0"}, "not one of yours"},
		{Request{Op: OpDeleteTap, Tap: "bgu1002"}, "not one of yours"},
		{Request{Op: OpCreateTap, Tap: network.TapPrefixFor(1002) + "abc"}, "not one of yours"},
		{Request{Op: OpDeleteTap, Tap: network.TapName("rootsvm")}, "not one of yours"},
		{Request{Op: OpCreateTap, Tap: aliceTap("../x")}, "not one of yours"},
		{Request{Op: OpCreateTap, Tap: aliceTap("squat")}, "belongs to uid 0"},
		{Request{Op: OpDeleteTap, Tap: aliceTap("squat")}, "belongs to uid 0"},
		{Request{Op: OpFirewallAdd, Rules: []Rule{{Name: "x", IP: ip("172.30.2.9"), OutIface: "eth0"}}}, "not a VM address of your subnet"},
		{Request{Op: OpFirewallAdd, Rules: []Rule{{Name: "x", IP: ip("172.30.1.1"), OutIface: "eth0"}}}, "not a VM address"},
		{Request{Op: OpFirewallAdd, Rules: []Rule{{Name: "x", IP: ip("172.30.1.0"), OutIface: "eth0"}}}, "not a VM address"},
		{Request{Op: OpFirewallAdd, Rules: []Rule{{Name: "x", IP: ip("172.30.1.255"), OutIface: "eth0"}}}, "not a VM address"},
		{Request{Op: OpFirewallAdd, Rules: []Rule{{Name: "x", IP: ip("172.30.1.9"), OutIface: "bgu1002"}}}, "default-route interface"},
		{Request{Op: OpFirewallSync, Rules: []Rule{{Name: "x", IP: ip("10.0.0.9"), OutIface: "eth0"}}}, "not a VM address"},
		{Request{Op: OpFirewallSync, Rules: []Rule{{Name: "x", IP: ip("172.30.1.9"), OutIface: "eth0"}, {Name: "y", IP: ip("172.30.1.9"), OutIface: "eth0"}}}, "may appear once"},
		{Request{Op: OpFirewallSync, Rules: []Rule{{Name: "x", IP: ip("172.30.1.9"), OutIface: "eth0"}, {Name: "x", IP: ip("172.30.1.8"), OutIface: "eth0"}}}, "may appear once"},
		{Request{Op: OpFirewallAdd}, "exactly one rule"},
		{Request{Op: OpFirewallDown}, "go only with the bridge"},
		{Request{Op: OpForwarding}, "system install"},
		{Request{Op: "rm-rf"}, "unknown operation"},
	}
	for _, c := range cases {
		r := Serve(ctx, h, alice, c.req, nil)
		if !strings.Contains(r.Error, c.want) {
			t.Errorf("%s %+v: error %q; want it to contain %q", c.req.Op, c.req, r.Error, c.want)
		}
	}
	if ports, _ := nf.Ports(ctx, "bgu1001"); len(ports) != 0 {
		t.Errorf("refused requests created taps: %v", ports)
	}
	if rules, _ := ff.List(ctx); len(rules) != 0 {
		t.Errorf("refused requests added rules: %+v", rules)
	}
	if bridge, _ := ff.Base(); bridge != "bgu1001" {
		t.Errorf("a refused request removed the firewall base (now %q)", bridge)
	}
}

func TestHelperRefusesOverlappingSubnet(t *testing.T) {
	h, nf, ff := fakeHost()
	h.Overlap = func(netip.Prefix, string) (network.Overlap, bool, error) {
		return network.Overlap{Prefix: netip.MustParsePrefix("172.30.0.0/16"), Iface: "docker0", Route: true}, true, nil
	}
	r := Serve(context.Background(), h, alice, Request{Op: OpEnsureBridge}, nil)
	if !strings.Contains(r.Error, "overlaps the route 172.30.0.0/16 on docker0") || !strings.Contains(r.Error, "system install --user alice") {
		t.Fatalf("error = %q", r.Error)
	}
	if _, ok := nf.BridgeAddr("bgu1001"); ok {
		t.Error("bridge created despite the overlap")
	}
	if bridge, _ := ff.Base(); bridge != "" {
		t.Error("firewall base created despite the overlap")
	}
}

func TestHelperKeepsLimits(t *testing.T) {
	h, nf, ff := fakeHost()
	ctx := context.Background()
	Serve(ctx, h, alice, Request{Op: OpEnsureBridge}, nil)
	for i := range alice.MaxTaps {
		if r := Serve(ctx, h, alice, Request{Op: OpCreateTap, Tap: aliceTap(fmt.Sprint(i))}, nil); r.Error != "" {
			t.Fatalf("tap %d: %s", i, r.Error)
		}
	}
	r := Serve(ctx, h, alice, Request{Op: OpCreateTap, Tap: aliceTap("over")}, nil)
	if !strings.Contains(r.Error, "max_taps") {
		t.Errorf("tap over the limit: %q", r.Error)
	}
	if _, ok := nf.HasTap(aliceTap("over")); ok || nf.Taps() != alice.MaxTaps {
		t.Errorf("over the limit: %d taps left, want %d and not the refused one", nf.Taps(), alice.MaxTaps)
	}
	if r := Serve(ctx, h, alice, Request{Op: OpCreateTap, Tap: aliceTap("0")}, nil); r.Error != "" {
		t.Errorf("re-attaching an own tap at the limit: %s", r.Error)
	}
	rule := func(name, ip string) Rule {
		return Rule{Name: name, IP: netip.MustParseAddr(ip), OutIface: "eth0"}
	}
	for _, rr := range []Rule{rule("a", "172.30.1.2"), rule("b", "172.30.1.3"), rule("b", "172.30.1.4")} {
		if r := Serve(ctx, h, alice, Request{Op: OpFirewallAdd, Rules: []Rule{rr}}, nil); r.Error != "" {
			t.Fatalf("fw-add %+v: %s", rr, r.Error)
		}
	}
	if r := Serve(ctx, h, alice, Request{Op: OpFirewallAdd, Rules: []Rule{rule("c", "172.30.1.5")}}, nil); !strings.Contains(r.Error, "max_nat") {
		t.Errorf("NAT over the limit: %q", r.Error)
	}
	// The address of a moves to c: a's rule set goes, c's comes, within the limit.
	if r := Serve(ctx, h, alice, Request{Op: OpFirewallAdd, Rules: []Rule{rule("c", "172.30.1.2")}}, nil); r.Error != "" {
		t.Errorf("moving an address: %s", r.Error)
	}
	got, _ := ff.List(ctx)
	if len(got) != 2 || got[0].Name != "b" || got[1].Name != "c" || got[1].IP.String() != "172.30.1.2" {
		t.Errorf("rules after the address moved: %+v; want b and c (at .2)", got)
	}
	many := []Rule{rule("a", "172.30.1.2"), rule("b", "172.30.1.3"), rule("c", "172.30.1.4")}
	if r := Serve(ctx, h, alice, Request{Op: OpFirewallSync, Rules: many}, nil); !strings.Contains(r.Error, "max_nat") {
		t.Errorf("sync over the limit: %q", r.Error)
	}
	if after, _ := ff.List(ctx); len(after) != 2 {
		t.Errorf("a refused sync changed the rules: %+v", after)
	}
}

func TestHelperReportsFailures(t *testing.T) {
	h, _, _ := fakeHost()
	if r := Serve(context.Background(), h, alice, Request{Op: OpDNSSockets}, nil); !strings.Contains(r.Error, "fd 3") {
		t.Errorf("dns without reply socket: %q", r.Error)
	}
}
