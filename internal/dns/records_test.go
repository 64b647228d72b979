package dns

import (
	"net/netip"
	"testing"

	mdns "github.com/miekg/dns"
)

// TestRecordsOverSeveralVMs: several VMs' records stay apart. An address
// given to a second name (a VM deleted while the daemon was down, its
// address reused) leaves the first name unanswered; a name moved to a new
// address answers only there; removing one name keeps the others, both
// ways (A and PTR).
func TestRecordsOverSeveralVMs(t *testing.T) {
	s := startServer(t, Options{Subnet: netip.MustParsePrefix("172.30.0.0/24")})
	ip := netip.MustParseAddr
	for name, addr := range map[string]string{"old-vm": "172.30.0.2", "keeper": "172.30.0.3", "mover": "172.30.0.4"} {
		if err := s.Set(name, ip(addr)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Set("new-vm", ip("172.30.0.2")); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("mover", ip("172.30.0.5")); err != nil {
		t.Fatal(err)
	}
	s.Remove("keeper-2") // unknown: nothing changes
	want := map[string]string{"new-vm": "172.30.0.2", "keeper": "172.30.0.3", "mover": "172.30.0.5"}
	for name, addr := range want {
		if got, ok := s.Lookup(name); !ok || got != ip(addr) {
			t.Errorf("Lookup(%s) = %v, %v; want %s", name, got, ok, addr)
		}
		r := query(t, s, "udp", name+".vm.", mdns.TypeA)
		if len(r.Answer) != 1 || r.Answer[0].(*mdns.A).A.String() != addr {
			t.Errorf("A %s.vm: %v; want %s", name, r.Answer, addr)
		}
		rev, _ := mdns.ReverseAddr(addr)
		r = query(t, s, "udp", rev, mdns.TypePTR)
		if len(r.Answer) != 1 || r.Answer[0].(*mdns.PTR).Ptr != name+".vm." {
			t.Errorf("PTR %s: %v; want %s.vm.", addr, r.Answer, name)
		}
	}
	for _, gone := range []string{"old-vm"} {
		if got, ok := s.Lookup(gone); ok {
			t.Errorf("%s still resolves to %s after its address went to new-vm", gone, got)
		}
		if r := query(t, s, "udp", gone+".vm.", mdns.TypeA); len(r.Answer) != 0 {
			t.Errorf("A %s.vm answered %v", gone, r.Answer)
		}
	}
	if r := query(t, s, "udp", "4.0.30.172.in-addr.arpa.", mdns.TypePTR); len(r.Answer) != 0 {
		t.Errorf("mover's old address still has a PTR: %v", r.Answer)
	}
	s.Remove("mover")
	if _, ok := s.Lookup("mover"); ok {
		t.Error("mover resolves after its removal")
	}
	for _, name := range []string{"new-vm", "keeper"} {
		if _, ok := s.Lookup(name); !ok {
			t.Errorf("removing mover removed %s", name)
		}
	}
}
