package dns

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// ServeDNS implements the miekg/dns Handler.
func (s *Server) ServeDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	_, isTCP := w.RemoteAddr().(*net.TCPAddr)
	resp := s.Answer(req)
	if resp == nil {
		return
	}
	if resp.Rcode == mdns.RcodeRefused && len(s.upstream) > 0 && len(req.Question) == 1 {
		resp = s.forward(req, isTCP)
	}
	if !isTCP {
		size := mdns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil && int(opt.UDPSize()) > size {
			size = int(opt.UDPSize())
		}
		resp.Truncate(size)
	}
	if err := w.WriteMsg(resp); err != nil {
		s.log.Debug("dns write failed", "err", err)
	}
}

// Answer computes the authoritative reply to req from the records alone
// (no forwarding). It returns nil for messages that must not be answered
// (responses). Names outside the zone and the VM reverse names get REFUSED.
func (s *Server) Answer(req *mdns.Msg) *mdns.Msg {
	if req == nil || req.Response {
		return nil
	}
	resp := new(mdns.Msg)
	resp.SetReply(req)
	resp.RecursionAvailable = false
	resp.Compress = true
	if opt := req.IsEdns0(); opt != nil {
		resp.SetEdns0(4096, false)
	}
	if req.Opcode != mdns.OpcodeQuery {
		resp.Rcode = mdns.RcodeNotImplemented
		return resp
	}
	if len(req.Question) != 1 {
		resp.Rcode = mdns.RcodeFormatError
		return resp
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	if q.Qclass != mdns.ClassINET && q.Qclass != mdns.ClassANY {
		resp.Rcode = mdns.RcodeRefused
		return resp
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch {
	case mdns.IsSubDomain(s.zone, name):
		s.answerZone(resp, q, name)
	case strings.HasSuffix(name, ".in-addr.arpa."):
		s.answerReverse(resp, q, name)
	default:
		resp.Rcode = mdns.RcodeRefused
	}
	return resp
}

func (s *Server) hdr(name string, t uint16) mdns.RR_Header {
	return mdns.RR_Header{Name: name, Rrtype: t, Class: mdns.ClassINET, Ttl: s.opts.TTL}
}

// soa is the zone's SOA record; its minimum is the negative-cache TTL.
func (s *Server) soa(zone string) mdns.RR {
	return &mdns.SOA{Hdr: s.hdr(zone, mdns.TypeSOA), Ns: "ns." + s.zone, Mbox: "hostmaster." + s.zone,
		Serial: s.serial, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: s.opts.TTL}
}

func (s *Server) answerZone(resp *mdns.Msg, q mdns.Question, name string) {
	resp.Authoritative = true
	if name == s.zone {
		if q.Qtype == mdns.TypeSOA || q.Qtype == mdns.TypeANY {
			resp.Answer = append(resp.Answer, s.soa(s.zone))
			return
		}
		resp.Ns = append(resp.Ns, s.soa(s.zone)) // NODATA
		return
	}
	label := strings.TrimSuffix(name, "."+s.zone)
	ip, ok := s.byName[label]
	if !ok || strings.Contains(label, ".") {
		resp.Rcode = mdns.RcodeNameError
		resp.Ns = append(resp.Ns, s.soa(s.zone))
		return
	}
	if q.Qtype == mdns.TypeA || q.Qtype == mdns.TypeANY {
		resp.Answer = append(resp.Answer, &mdns.A{Hdr: s.hdr(q.Name, mdns.TypeA), A: ip.AsSlice()})
		return
	}
	resp.Ns = append(resp.Ns, s.soa(s.zone)) // NODATA, e.g. AAAA
}

func (s *Server) answerReverse(resp *mdns.Msg, q mdns.Question, name string) {
	ip, ok := parseReverse(name)
	if !ok {
		resp.Rcode = mdns.RcodeRefused
		return
	}
	label, known := s.byAddr[ip]
	inSubnet := s.opts.Subnet.IsValid() && s.opts.Subnet.Contains(ip)
	if !known && !inSubnet {
		resp.Rcode = mdns.RcodeRefused
		return
	}
	resp.Authoritative = true
	zone := reverseZone(s.opts.Subnet, ip)
	if !known {
		resp.Rcode = mdns.RcodeNameError
		resp.Ns = append(resp.Ns, s.soa(zone))
		return
	}
	if q.Qtype == mdns.TypePTR || q.Qtype == mdns.TypeANY {
		resp.Answer = append(resp.Answer, &mdns.PTR{Hdr: s.hdr(q.Name, mdns.TypePTR), Ptr: label + "." + s.zone})
		return
	}
	resp.Ns = append(resp.Ns, s.soa(zone))
}

// parseReverse turns "2.0.30.172.in-addr.arpa." into 172.30.0.2.
func parseReverse(name string) (netip.Addr, bool) {
	parts := strings.Split(strings.TrimSuffix(name, ".in-addr.arpa."), ".")
	if len(parts) != 4 {
		return netip.Addr{}, false
	}
	ip, err := netip.ParseAddr(parts[3] + "." + parts[2] + "." + parts[1] + "." + parts[0])
	if err != nil || !ip.Is4() {
		return netip.Addr{}, false
	}
	return ip, true
}

// reverseZone is the in-addr.arpa zone covering subnet (rounded out to whole
// octets), or the /24 of ip when no subnet is configured.
func reverseZone(subnet netip.Prefix, ip netip.Addr) string {
	bits := 24
	if subnet.IsValid() {
		bits = subnet.Bits() / 8 * 8
	}
	b := ip.As4()
	labels := []string{"in-addr.arpa."}
	for i := 0; i < bits/8; i++ {
		labels = append([]string{strconv.Itoa(int(b[i]))}, labels...)
	}
	return strings.Join(labels, ".")
}

// forward relays req to the upstream resolvers in order and returns the
// first answer, or SERVFAIL when none answered.
func (s *Server) forward(req *mdns.Msg, tcp bool) *mdns.Msg {
	for _, up := range s.upstream {
		c := &mdns.Client{Net: "udp", Timeout: 2 * time.Second}
		if tcp {
			c.Net = "tcp"
		}
		r, _, err := c.Exchange(req, up)
		if err == nil && r.Truncated && !tcp {
			c.Net = "tcp"
			r, _, err = c.Exchange(req, up)
		}
		if err != nil {
			s.log.Debug("dns upstream failed", "upstream", up, "err", err)
			continue
		}
		r.Id = req.Id
		return r
	}
	resp := new(mdns.Msg)
	resp.SetRcode(req, mdns.RcodeServerFailure)
	return resp
}
