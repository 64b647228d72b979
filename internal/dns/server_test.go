package dns

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/execx"
	mdns "github.com/miekg/dns"
)

// loopback returns a random 127.x.y.z address (never 127.0.0.53, the
// systemd-resolved stub) so parallel runs do not collide.
func loopback() netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte(100 + rand.IntN(100)), byte(rand.IntN(250)), byte(1 + rand.IntN(250))})
}

func startServer(t *testing.T, opts Options) *Server {
	t.Helper()
	if !opts.Listen.IsValid() {
		opts.Listen = netip.AddrPortFrom(loopback(), 0)
	}
	s, err := NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func query(t *testing.T, s *Server, net, name string, qtype uint16) *mdns.Msg {
	t.Helper()
	c := &mdns.Client{Net: net}
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	r, _, err := c.Exchange(m, s.Addr().String())
	if err != nil {
		t.Fatalf("%s %s %s: %v", net, name, mdns.TypeToString[qtype], err)
	}
	return r
}

func TestNewServerRejectsWildcard(t *testing.T) {
	for _, l := range []string{"0.0.0.0:53", "[::]:53"} {
		if _, err := NewServer(Options{Listen: netip.MustParseAddrPort(l)}); err == nil {
			t.Errorf("listen %s accepted", l)
		}
	}
	if _, err := NewServer(Options{Listen: netip.MustParseAddrPort("127.0.0.1:0"), Upstream: []string{"not-an-ip"}}); err == nil {
		t.Error("bad upstream accepted")
	}
}

func TestServerQueries(t *testing.T) {
	s := startServer(t, Options{Subnet: netip.MustParsePrefix("172.30.0.0/24")})
	if err := s.Set("calm-otter", netip.MustParseAddr("172.30.0.2")); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("Web.vm.", netip.MustParseAddr("172.30.0.3")); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("bad.name", netip.MustParseAddr("172.30.0.4")); err == nil {
		t.Fatal("dotted name accepted")
	}
	for _, proto := range []string{"udp", "tcp"} {
		r := query(t, s, proto, "CALM-otter.VM.", mdns.TypeA)
		if r.Rcode != mdns.RcodeSuccess || !r.Authoritative || r.RecursionAvailable || len(r.Answer) != 1 {
			t.Fatalf("%s A: %v", proto, r)
		}
		if a := r.Answer[0].(*mdns.A); a.A.String() != "172.30.0.2" {
			t.Fatalf("%s A = %s", proto, a.A)
		}
		r = query(t, s, proto, "2.0.30.172.in-addr.arpa.", mdns.TypePTR)
		if len(r.Answer) != 1 || r.Answer[0].(*mdns.PTR).Ptr != "calm-otter.vm." {
			t.Fatalf("%s PTR: %v", proto, r)
		}
		r = query(t, s, proto, "nope.vm.", mdns.TypeA)
		if r.Rcode != mdns.RcodeNameError || len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != mdns.TypeSOA {
			t.Fatalf("%s NXDOMAIN: %v", proto, r)
		}
		r = query(t, s, proto, "calm-otter.vm.", mdns.TypeAAAA)
		if r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 0 || len(r.Ns) != 1 {
			t.Fatalf("%s AAAA NODATA: %v", proto, r)
		}
		r = query(t, s, proto, "99.0.30.172.in-addr.arpa.", mdns.TypePTR)
		if r.Rcode != mdns.RcodeNameError || r.Ns[0].Header().Name != "0.30.172.in-addr.arpa." {
			t.Fatalf("%s reverse NXDOMAIN: %v", proto, r)
		}
		r = query(t, s, proto, "debian.org.", mdns.TypeA)
		if r.Rcode != mdns.RcodeRefused || r.RecursionAvailable || len(r.Answer) != 0 {
			t.Fatalf("%s outside zone: %v", proto, r)
		}
		r = query(t, s, proto, "1.1.168.192.in-addr.arpa.", mdns.TypePTR)
		if r.Rcode != mdns.RcodeRefused {
			t.Fatalf("%s foreign reverse: %v", proto, r)
		}
		r = query(t, s, proto, "vm.", mdns.TypeSOA)
		if len(r.Answer) != 1 {
			t.Fatalf("%s apex SOA: %v", proto, r)
		}
	}
	s.Remove("calm-otter.vm")
	if r := query(t, s, "udp", "calm-otter.vm.", mdns.TypeA); r.Rcode != mdns.RcodeNameError {
		t.Fatalf("after Remove: %v", r)
	}
	if r := query(t, s, "udp", "2.0.30.172.in-addr.arpa.", mdns.TypePTR); r.Rcode != mdns.RcodeNameError {
		t.Fatalf("PTR after Remove: %v", r)
	}
	// Moving web to a new address drops the old reverse record.
	_ = s.Set("web", netip.MustParseAddr("172.30.0.7"))
	if r := query(t, s, "udp", "3.0.30.172.in-addr.arpa.", mdns.TypePTR); r.Rcode != mdns.RcodeNameError {
		t.Fatalf("old PTR kept: %v", r)
	}
}

func TestServerWithDig(t *testing.T) {
	if !execx.Have("dig") {
		t.Skip("dig not installed (Debian: dnsutils)")
	}
	s := startServer(t, Options{})
	_ = s.Set("calm-otter", netip.MustParseAddr("172.30.0.2"))
	ctx := context.Background()
	dig := func(args ...string) string {
		argv := append([]string{"dig", "@" + s.Addr().Addr().String(), "-p", strconv.Itoa(int(s.Addr().Port())), "+time=2", "+tries=1"}, args...)
		out, err := execx.Output(ctx, argv...)
		if err != nil {
			t.Fatalf("%v: %v", argv, err)
		}
		return string(out)
	}
	for _, tcp := range []string{"+notcp", "+tcp"} {
		if out := dig(tcp, "+short", "calm-otter.vm"); strings.TrimSpace(out) != "172.30.0.2" {
			t.Fatalf("dig %s A: %q", tcp, out)
		}
		if out := dig(tcp, "+short", "-x", "172.30.0.2"); strings.TrimSpace(out) != "calm-otter.vm." {
			t.Fatalf("dig %s -x: %q", tcp, out)
		}
		if out := dig(tcp, "nope.vm"); !strings.Contains(out, "status: NXDOMAIN") || !strings.Contains(out, "flags: qr aa rd;") {
			t.Fatalf("dig %s NXDOMAIN:\n%s", tcp, out)
		}
		if out := dig(tcp, "example.org"); !strings.Contains(out, "status: REFUSED") {
			t.Fatalf("dig %s outside zone:\n%s", tcp, out)
		}
	}
	s.Remove("calm-otter")
	if out := dig("calm-otter.vm"); !strings.Contains(out, "status: NXDOMAIN") {
		t.Fatalf("dig after remove:\n%s", out)
	}
}

func TestServerForwardsToUpstream(t *testing.T) {
	up := startServer(t, Options{Zone: "example."})
	_ = up.Set("www", netip.MustParseAddr("192.0.2.10"))
	s := startServer(t, Options{Upstream: []string{up.Addr().String()}})
	for _, proto := range []string{"udp", "tcp"} {
		r := query(t, s, proto, "www.example.", mdns.TypeA)
		if len(r.Answer) != 1 || r.Answer[0].(*mdns.A).A.String() != "192.0.2.10" {
			t.Fatalf("%s forwarded: %v", proto, r)
		}
	}
	// An unreachable upstream gives SERVFAIL, not a hang.
	dead := startServer(t, Options{})
	addr := dead.Addr().String()
	dead.Close()
	s2 := startServer(t, Options{Upstream: []string{addr}})
	if r := query(t, s2, "tcp", "www.example.", mdns.TypeA); r.Rcode != mdns.RcodeServerFailure {
		t.Fatalf("dead upstream: %v", r)
	}
}
