package dns

import (
	"net/netip"
	"testing"

	mdns "github.com/miekg/dns"
)

func FuzzHandler(f *testing.F) {
	for _, q := range []struct {
		name string
		t    uint16
	}{{"calm-otter.vm.", mdns.TypeA}, {"2.0.30.172.in-addr.arpa.", mdns.TypePTR}, {"x.org.", mdns.TypeANY}, {"vm.", mdns.TypeSOA}} {
		m := new(mdns.Msg)
		m.SetQuestion(q.name, q.t)
		b, _ := m.Pack()
		f.Add(b)
	}
	f.Add([]byte{})
	s, err := NewServer(Options{Listen: netip.MustParseAddrPort("127.0.0.1:0"), Subnet: netip.MustParsePrefix("172.30.0.0/24")})
	if err != nil {
		f.Fatal(err)
	}
	_ = s.Set("calm-otter", netip.MustParseAddr("172.30.0.2"))
	_ = s.Set("web", netip.MustParseAddr("172.30.0.3"))
	f.Fuzz(func(t *testing.T, data []byte) {
		req := new(mdns.Msg)
		if err := req.Unpack(data); err != nil {
			return
		}
		resp := s.Answer(req)
		if resp == nil {
			return
		}
		if resp.RecursionAvailable {
			t.Fatal("RA set")
		}
		for _, rr := range resp.Answer {
			name := rr.Header().Name
			ptr, isPTR := rr.(*mdns.PTR)
			switch {
			case mdns.IsSubDomain(s.Zone(), name):
			case isPTR && mdns.IsSubDomain(s.Zone(), ptr.Ptr):
			default:
				t.Fatalf("answer outside the zone: %v", rr)
			}
		}
		if _, err := resp.Pack(); err != nil {
			t.Fatalf("reply does not pack: %v", err)
		}
	})
}
