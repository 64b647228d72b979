package nethelper

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/nat"
	"github.com/bangerdev/banger/internal/network"
	"github.com/bangerdev/banger/internal/system"
)

var alice = system.Allocation{User: "alice", UID: 1001, Bridge: "bgu1001", Subnet: netip.MustParsePrefix("172.30.1.0/24")}

// fakeHost is a Host over in-memory network and firewall fakes; taps maps
// existing taps to their owner uid and bridge.
func fakeHost(taps map[string][2]string) (Host, *network.Fake, *nat.Fake) {
	nf, ff := network.NewFake(), nat.NewFake()
	return Host{
		Net:      nf,
		Firewall: func(context.Context, system.Allocation) (nat.Firewall, error) { return ff, nil },
		TapOwner: func(tap string) (int, string, error) {
			t, ok := taps[tap]
			if !ok {
				return 0, "", network.ErrNotFound
			}
			uid := 1001
			if t[0] != "alice" {
				uid = 1002
			}
			return uid, t[1], nil
		},
		DefaultRoute:     func() (string, error) { return "eth0", nil },
		EnableForwarding: func() error { return nil },
	}, nf, ff
}

func TestHelperDoesWhatTheCallerMay(t *testing.T) {
	h, nf, ff := fakeHost(map[string][2]string{"bgtmine": {"alice", "bgu1001"}})
	ctx := context.Background()
	for _, req := range []Request{
		{Op: OpEnsureBridge},
		{Op: OpCreateTap, Tap: "bgt0a1b2c3d"},
		{Op: OpCreateTap, Tap: "bgtmine"},
		{Op: OpFirewallAdd, Rules: []Rule{{Name: "web", IP: netip.MustParseAddr("172.30.1.7"), OutIface: "eth0"}}},
	} {
		if r := Serve(ctx, h, alice, req, nil); r.Error != "" {
			t.Fatalf("%s: %s", req.Op, r.Error)
		}
	}
	if p, ok := nf.BridgeAddr("bgu1001"); !ok || p.String() != "172.30.1.1/24" {
		t.Errorf("bridge = %v %v; want the caller's gateway 172.30.1.1/24", p, ok)
	}
	if br, ok := nf.HasTap("bgt0a1b2c3d"); !ok || br != "bgu1001" {
		t.Errorf("tap on %q (%v); want the caller's bridge", br, ok)
	}
	if rules, _ := ff.List(ctx); len(rules) != 1 || rules[0].Name != "web" {
		t.Errorf("rules = %+v", rules)
	}
	if r := Serve(ctx, h, alice, Request{Op: OpInfo}, nil); r.Bridge != "bgu1001" || r.Subnet != alice.Subnet {
		t.Errorf("info = %+v", r)
	}
}

func TestHelperRefusesWhatIsNotTheCallers(t *testing.T) {
	h, nf, ff := fakeHost(map[string][2]string{
		"bgtbobs":  {"bob", "bgu1002"},
		"bgtastry": {"alice", "bgu1002"},
	})
	ctx := context.Background()
	ip := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	cases := []struct {
		req  Request
		want string
	}{
		{Request{Op: OpCreateTap, Tap: "eth0"}, "not one banger creates"},
		{Request{Op: OpDeleteTap, Tap: "bgu1002"}, "not one banger creates"},
		{Request{Op: OpCreateTap, Tap: "bgt../x"}, "not one banger creates"},
		{Request{Op: OpDeleteTap, Tap: "bgtbobs"}, "belongs to uid 1002"},
		{Request{Op: OpCreateTap, Tap: "bgtastry"}, "not to your bridge"},
		{Request{Op: OpFirewallAdd, Rules: []Rule{{Name: "x", IP: ip("172.30.2.9"), OutIface: "eth0"}}}, "not a VM address of your subnet"},
		{Request{Op: OpFirewallAdd, Rules: []Rule{{Name: "x", IP: ip("172.30.1.1"), OutIface: "eth0"}}}, "not a VM address"},
		{Request{Op: OpFirewallAdd, Rules: []Rule{{Name: "x", IP: ip("172.30.1.9"), OutIface: "bgu1002"}}}, "default-route interface"},
		{Request{Op: OpFirewallSync, Rules: []Rule{{Name: "x", IP: ip("10.0.0.9"), OutIface: "eth0"}}}, "not a VM address"},
		{Request{Op: OpFirewallAdd}, "exactly one rule"},
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
}

func TestHelperReportsFailures(t *testing.T) {
	h, _, _ := fakeHost(nil)
	h.EnableForwarding = func() error { return errors.New("read-only /proc/sys") }
	if r := Serve(context.Background(), h, alice, Request{Op: OpForwarding}, nil); r.Error != "read-only /proc/sys" {
		t.Errorf("error = %q", r.Error)
	}
	if r := Serve(context.Background(), h, alice, Request{Op: OpDNSSockets}, nil); !strings.Contains(r.Error, "fd 3") {
		t.Errorf("dns without reply socket: %q", r.Error)
	}
}
