package nat

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/testenv"
)

func TestRuleValidate(t *testing.T) {
	good := mustRule("calm-otter", "172.30.0.2", "eth0")
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []Rule{
		{Name: "a b", IP: good.IP, OutIface: "eth0"},
		{Name: "x\"; drop", IP: good.IP, OutIface: "eth0"},
		{Name: "", IP: good.IP, OutIface: "eth0"},
		{Name: "ok", IP: netip.MustParseAddr("fd00::1"), OutIface: "eth0"},
		{Name: "ok", IP: good.IP, OutIface: ""},
		{Name: "ok", IP: good.IP, OutIface: "-j ACCEPT"},
		{Name: "ok", IP: good.IP, OutIface: "averyverylongifname"},
	}
	for _, r := range bad {
		if err := r.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil", r)
		}
	}
}

func TestFakeAndSync(t *testing.T) {
	ctx := context.Background()
	f := NewFake()
	if err := f.AddVM(ctx, mustRule("a", "10.0.0.2", "eth0")); err == nil {
		t.Fatal("AddVM before EnsureBase")
	}
	if err := f.EnsureBase(ctx, "banger0", testSubnet); err != nil {
		t.Fatal(err)
	}
	a, b, c := mustRule("a", "10.0.0.2", "eth0"), mustRule("b", "10.0.0.3", "eth0"), mustRule("c", "10.0.0.4", "eth0")
	_ = f.AddVM(ctx, a)
	_ = f.AddVM(ctx, b)
	f.Calls = nil
	b2 := mustRule("b", "10.0.0.3", "wlan0")
	if err := f.Sync(ctx, []Rule{b2, c}); err != nil {
		t.Fatal(err)
	}
	got, _ := f.List(ctx)
	if !slices.EqualFunc(got, []Rule{b2, c}, sameRule) {
		t.Fatalf("after Sync: %v", got)
	}
	want := []string{"RemoveVM a", "RemoveVM b", "AddVM b", "AddVM c"}
	if !slices.Equal(f.Calls, want) {
		t.Fatalf("calls = %v, want %v", f.Calls, want)
	}
	f.Calls = nil
	if err := f.Sync(ctx, []Rule{b2, c}); err != nil || len(f.Calls) != 0 {
		t.Fatalf("no-op Sync made calls %v (%v)", f.Calls, err)
	}
	if err := f.Sync(ctx, []Rule{{Name: "bad name"}}); err == nil {
		t.Fatal("Sync accepted an invalid rule")
	}
}

func TestDetectAndCheck(t *testing.T) {
	testenv.RequireRootQuick(t, "talks to netfilter")
	fw, why, err := Detect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if fw.Backend() != BackendNftables || !strings.HasPrefix(why, "nftables") {
		t.Logf("detected %s: %s", fw.Backend(), why)
	}
	// Check in a namespace without a default route names that problem.
	ns := newNetns(t)
	inNetns(t, ns, func() {
		err := Check(context.Background())
		if err == nil || !strings.Contains(err.Error(), "no IPv4 default route") {
			t.Fatalf("Check = %v", err)
		}
	})
}
