package network

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
)

func TestGateway(t *testing.T) {
	cases := map[string]string{
		"172.30.0.0/24":  "172.30.0.1",
		"10.9.8.77/16":   "10.9.0.1",
		"192.168.5.4/30": "192.168.5.5",
	}
	for in, want := range cases {
		if got := Gateway(netip.MustParsePrefix(in)); got.String() != want {
			t.Errorf("Gateway(%s) = %s, want %s", in, got, want)
		}
	}
	if got := GatewayPrefix(DefaultSubnet).String(); got != "172.30.0.1/24" {
		t.Errorf("GatewayPrefix = %s", got)
	}
}

func TestAllocateIP(t *testing.T) {
	s := netip.MustParsePrefix("172.30.0.0/24")
	ip, err := AllocateIP(s, nil)
	if err != nil || ip.String() != "172.30.0.2" {
		t.Fatalf("first = %v, %v", ip, err)
	}
	used := []netip.Addr{netip.MustParseAddr("172.30.0.2"), netip.MustParseAddr("172.30.0.4")}
	if ip, _ := AllocateIP(s, used); ip.String() != "172.30.0.3" {
		t.Fatalf("gap = %v", ip)
	}
	// A /30 has exactly one VM address: .0 network, .1 gateway, .2 VM, .3 broadcast.
	small := netip.MustParsePrefix("10.0.0.0/30")
	ip, err = AllocateIP(small, nil)
	if err != nil || ip.String() != "10.0.0.2" {
		t.Fatalf("/30 = %v, %v", ip, err)
	}
	_, err = AllocateIP(small, []netip.Addr{ip})
	if err == nil || !strings.Contains(err.Error(), "10.0.0.0/30 has no free address; delete a VM or set vm_subnet") {
		t.Fatalf("full /30 error = %v", err)
	}
	// Fill a /24 completely: 253 VMs (.2-.254), never .255.
	var all []netip.Addr
	for {
		ip, err := AllocateIP(s, all)
		if err != nil {
			if !strings.Contains(err.Error(), "subnet 172.30.0.0/24 has no free address; delete a VM or set vm_subnet to a larger range") {
				t.Fatalf("error = %v", err)
			}
			break
		}
		if ip == netip.MustParseAddr("172.30.0.255") || ip == Gateway(s) {
			t.Fatalf("allocated reserved address %s", ip)
		}
		all = append(all, ip)
	}
	if len(all) != 253 {
		t.Fatalf("allocated %d addresses, want 253", len(all))
	}
	if _, err := AllocateIP(netip.MustParsePrefix("fd00::/64"), nil); err == nil {
		t.Fatal("IPv6 subnet accepted")
	}
	if _, err := AllocateIP(netip.MustParsePrefix("10.0.0.0/31"), nil); err == nil {
		t.Fatal("/31 accepted")
	}
}

func TestMACFor(t *testing.T) {
	a := MACFor(netip.MustParseAddr("172.30.0.2"))
	if a != "02:b4:ac:1e:00:02" {
		t.Fatalf("MACFor = %s", a)
	}
	if MACFor(netip.MustParseAddr("172.30.0.2")) != a {
		t.Fatal("not deterministic")
	}
	if MACFor(netip.MustParseAddr("172.30.0.3")) == a {
		t.Fatal("two addresses share a MAC")
	}
	// Locally administered (bit 1) and unicast (bit 0 clear) in the first octet.
	hw, err := net.ParseMAC(a)
	if err != nil || hw[0]&0x02 == 0 || hw[0]&0x01 != 0 {
		t.Fatalf("%s is not a locally administered unicast MAC (%v)", a, err)
	}
}

func TestTapName(t *testing.T) {
	if got := TapName("a1b2c3"); got != "bgta1b2c3" {
		t.Errorf("TapName = %q", got)
	}
	long := TapName("0123456789abcdef0123")
	if len(long) != 15 || !strings.HasPrefix(long, TapPrefix) {
		t.Errorf("long TapName = %q", long)
	}
	if got := TapName("AB-c/d"); got != "bgtabcd" {
		t.Errorf("TapName sanitised = %q", got)
	}
}

func TestFake(t *testing.T) {
	ctx := context.Background()
	f := NewFake()
	if err := f.CreateTap(ctx, "bgt1", "banger0"); err == nil {
		t.Fatal("tap created without bridge")
	}
	if err := f.EnsureBridge(ctx, "banger0", DefaultSubnet); err != nil {
		t.Fatal(err)
	}
	if err := f.EnsureBridge(ctx, "banger0", DefaultSubnet); err != nil {
		t.Fatal("EnsureBridge not idempotent:", err)
	}
	if p, _ := f.BridgeAddr("banger0"); p.String() != "172.30.0.1/24" {
		t.Fatalf("bridge addr %s", p)
	}
	if err := f.CreateTap(ctx, "bgt1", "banger0"); err != nil {
		t.Fatal(err)
	}
	if err := f.TeardownBridge(ctx, "banger0"); !errors.Is(err, ErrBridgeInUse) {
		t.Fatalf("teardown with port = %v", err)
	}
	ports, _ := f.Ports(ctx, "banger0")
	if len(ports) != 1 || ports[0] != "bgt1" {
		t.Fatalf("ports = %v", ports)
	}
	if err := f.DeleteTap(ctx, "bgt1"); err != nil {
		t.Fatal(err)
	}
	if err := f.TeardownBridge(ctx, "banger0"); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.BridgeAddr("banger0"); ok {
		t.Fatal("bridge still there")
	}
}
