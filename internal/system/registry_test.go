package system

import (
	"net/netip"
	"path/filepath"
	"testing"
)

func TestAllocateNeverOverlaps(t *testing.T) {
	var r Registry
	busy := []netip.Prefix{netip.MustParsePrefix("172.30.2.0/23")} // a host route covering .2 and .3
	a, err := r.Allocate("alice", 1001, busy)
	if err != nil || a.Subnet.String() != "172.30.1.0/24" || a.Bridge != "bgu1001" {
		t.Fatalf("alice = %+v, %v", a, err)
	}
	b, err := r.Allocate("bob", 1002, busy)
	if err != nil || b.Subnet.String() != "172.30.4.0/24" {
		t.Fatalf("bob = %+v, %v; want the first /24 free of alice, root and the host route", b, err)
	}
	again, _ := r.Allocate("alice", 1001, nil)
	if again != a || len(r.Users) != 2 {
		t.Fatalf("second install of alice changed her allocation: %+v (users %d)", again, len(r.Users))
	}
	if _, err := r.Allocate("alice", 2001, nil); err == nil {
		t.Fatal("a changed uid for a recorded user was accepted")
	}
	for _, x := range r.Users {
		if x.Subnet.Overlaps(RootSubnet) {
			t.Errorf("%s got root's subnet", x.User)
		}
	}
}

func TestRegistryRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "etc", "users.toml")
	r := &Registry{}
	if _, err := r.Allocate("zed", 1005, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Allocate("amy", 1004, nil); err != nil {
		t.Fatal(err)
	}
	r.Granted = Granted{AddedToKVM: []string{"amy"}, TunModeBefore: 0o600, WroteUdevRule: true}
	if err := r.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Users) != 2 || got.Users[0].User != "amy" || got.Users[1] != r.Users[1] {
		t.Fatalf("users = %+v; want sorted %+v", got.Users, r.Users)
	}
	if a, ok := got.ForUID(1005); !ok || a.User != "zed" || a.Subnet.String() != "172.30.1.0/24" {
		t.Errorf("ForUID(1005) = %+v %v", a, ok)
	}
	if got.Granted.TunModeBefore != 0o600 || !got.Granted.WroteUdevRule || got.Granted.AddedToKVM[0] != "amy" {
		t.Errorf("granted = %+v", got.Granted)
	}
	empty, err := Load(filepath.Join(t.TempDir(), "none.toml"))
	if err != nil || len(empty.Users) != 0 {
		t.Errorf("missing registry = %+v, %v", empty, err)
	}
}

func TestCapXattrIsSetcapFormat(t *testing.T) {
	// What `setcap cap_net_admin,cap_net_bind_service+ep` writes: revision
	// 2 with the effective flag, permitted bits 10 and 12.
	want := []byte{0x01, 0, 0, 0x02, 0x00, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if got := capXattr(); string(got) != string(want) {
		t.Fatalf("xattr = % x; want % x", got, want)
	}
}
