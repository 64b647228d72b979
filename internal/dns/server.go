// Package dns serves the `.vm` zone: `<name>.vm` resolves to a VM's address
// on the host-only network, and the VM addresses resolve back (PTR).
//
// Server is an authoritative server built on github.com/miekg/dns that
// listens on the host side of the VM bridge over UDP and TCP (never on a
// wildcard address). Names outside the zone are answered with REFUSED and
// RA=0 unless Options.Upstream names resolvers to forward them to: banger is
// not a recursive resolver for the host, and refusing keeps it from being
// an open resolver on the bridge. Guests that need outside names (NAT VMs)
// get them when the daemon passes the host's resolvers as Upstream.
//
// Publisher abstracts where records go: the builtin Server or the external
// mapdns tool's JSON data file (see Mapdns).
package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// DefaultZone is the zone VMs are published in.
const DefaultZone = "vm."

// DefaultTTL is the TTL of every record the server hands out, short so a
// VM that moves is found again quickly.
const DefaultTTL = 30

// Options configures a Server.
type Options struct {
	// Listen is the address to serve on, normally the bridge gateway and
	// port 53. Port 0 picks a free port (tests). Wildcard addresses are
	// refused.
	Listen netip.AddrPort
	// Zone is the authoritative zone; DefaultZone when empty.
	Zone string
	// Subnet, when set, is the VM subnet: reverse queries for unknown
	// addresses inside it get NXDOMAIN instead of REFUSED.
	Subnet netip.Prefix
	// Upstream lists resolvers ("ip" or "ip:port") for names outside the
	// zone. Empty means such queries are answered with REFUSED.
	Upstream []string
	// TTL of the records; DefaultTTL when zero.
	TTL uint32
	// Logger receives serve errors; slog.Default() when nil.
	Logger *slog.Logger
	// Bind, when set, supplies the UDP and TCP sockets for Listen instead
	// of binding them here (an ordinary user's daemon gets port 53 from
	// the privileged network helper).
	Bind func(ctx context.Context) (net.PacketConn, net.Listener, error)
}

// Server is the embedded `.vm` DNS server. It is safe for concurrent use.
type Server struct {
	opts     Options
	zone     string
	upstream []string
	log      *slog.Logger

	mu     sync.RWMutex
	byName map[string]netip.Addr // lower-case label → address
	byAddr map[netip.Addr]string // address → label
	serial uint32

	srvMu  sync.Mutex
	udp    *mdns.Server
	tcp    *mdns.Server
	bound  netip.AddrPort
	closed bool
}

// NewServer validates opts and returns a Server that is not yet listening.
func NewServer(opts Options) (*Server, error) {
	if !opts.Listen.Addr().IsValid() || opts.Listen.Addr().IsUnspecified() {
		return nil, fmt.Errorf("dns listen address %v: must be a concrete address such as the bridge gateway (172.30.0.1:53), never 0.0.0.0 or ::", opts.Listen)
	}
	zone := opts.Zone
	if zone == "" {
		zone = DefaultZone
	}
	zone = mdns.CanonicalName(zone)
	if _, ok := mdns.IsDomainName(zone); !ok || zone == "." {
		return nil, fmt.Errorf("dns zone %q is not a domain name", opts.Zone)
	}
	var ups []string
	for _, u := range opts.Upstream {
		hp, err := normalizeUpstream(u)
		if err != nil {
			return nil, err
		}
		ups = append(ups, hp)
	}
	if opts.TTL == 0 {
		opts.TTL = DefaultTTL
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Server{opts: opts, zone: zone, upstream: ups, log: log,
		byName: map[string]netip.Addr{}, byAddr: map[netip.Addr]string{}, serial: 1}, nil
}

func normalizeUpstream(u string) (string, error) {
	if ap, err := netip.ParseAddrPort(u); err == nil {
		return ap.String(), nil
	}
	if a, err := netip.ParseAddr(u); err == nil {
		return netip.AddrPortFrom(a, 53).String(), nil
	}
	return "", fmt.Errorf("dns upstream %q: want an IP address or ip:port", u)
}

// Zone returns the canonical zone name ("vm.").
func (s *Server) Zone() string { return s.zone }

// Start binds UDP and TCP on Options.Listen and serves until Close. ctx
// bounds the start only.
func (s *Server) Start(ctx context.Context) error {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.udp != nil || s.closed {
		return errors.New("dns server already started or closed")
	}
	if s.opts.Bind != nil {
		pc, ln, err := s.opts.Bind(ctx)
		if err != nil {
			return fmt.Errorf("dns sockets for %s: %w", s.opts.Listen, err)
		}
		bound := pc.LocalAddr().(*net.UDPAddr).AddrPort()
		s.bound = netip.AddrPortFrom(bound.Addr().Unmap(), bound.Port())
		s.udp = s.serve(&mdns.Server{PacketConn: pc, Handler: s})
		s.tcp = s.serve(&mdns.Server{Listener: ln, Handler: s})
		return nil
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		pc, err := net.ListenPacket("udp", s.opts.Listen.String())
		if err != nil {
			return fmt.Errorf("dns listen udp %s: %w: check that the bridge has this address and nothing else serves DNS there", s.opts.Listen, err)
		}
		bound := pc.LocalAddr().(*net.UDPAddr).AddrPort()
		bound = netip.AddrPortFrom(bound.Addr().Unmap(), bound.Port())
		ln, err := net.Listen("tcp", bound.String())
		if err != nil {
			pc.Close()
			lastErr = err
			if s.opts.Listen.Port() == 0 {
				continue // the random UDP port is taken for TCP; try another
			}
			return fmt.Errorf("dns listen tcp %s: %w", bound, err)
		}
		s.bound = bound
		s.udp = s.serve(&mdns.Server{PacketConn: pc, Handler: s})
		s.tcp = s.serve(&mdns.Server{Listener: ln, Handler: s})
		return nil
	}
	return fmt.Errorf("dns listen tcp: %w", lastErr)
}

// serve runs srv in the background and returns once it accepts queries.
func (s *Server) serve(srv *mdns.Server) *mdns.Server {
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.ActivateAndServe(); err != nil {
			s.log.Warn("dns server stopped", "err", err)
		}
	}()
	select {
	case <-started:
	case <-done:
	case <-time.After(5 * time.Second):
	}
	return srv
}

// Addr returns the address the server listens on (useful with port 0).
func (s *Server) Addr() netip.AddrPort {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	return s.bound
}

// Close stops both listeners. It is safe to call more than once.
func (s *Server) Close() error {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	s.closed = true
	var errs []error
	for _, srv := range []*mdns.Server{s.udp, s.tcp} {
		if srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			errs = append(errs, srv.ShutdownContext(ctx))
			cancel()
		}
	}
	s.udp, s.tcp = nil, nil
	return errors.Join(errs...)
}

// label turns "calm-otter", "Calm-Otter.vm" or "calm-otter.vm." into the
// zone-relative label "calm-otter".
func (s *Server) label(name string) (string, error) {
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	n = strings.TrimSuffix(n, "."+strings.TrimSuffix(s.zone, "."))
	if n == "" || len(n) > 63 || strings.ContainsAny(n, ". \t\\") {
		return "", fmt.Errorf("dns name %q: want one label such as calm-otter", name)
	}
	if _, ok := mdns.IsDomainName(n + "."); !ok {
		return "", fmt.Errorf("dns name %q is not a valid label", name)
	}
	return n, nil
}

// Set publishes name (a VM name, with or without the zone) at ip, replacing
// any earlier address of name and any other name that held ip.
func (s *Server) Set(name string, ip netip.Addr) error {
	l, err := s.label(name)
	if err != nil {
		return err
	}
	ip = ip.Unmap()
	if !ip.Is4() {
		return fmt.Errorf("dns record %s: address %v is not IPv4", l, ip)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.byName[l]; ok {
		delete(s.byAddr, old)
	}
	if other, ok := s.byAddr[ip]; ok {
		delete(s.byName, other)
	}
	s.byName[l] = ip
	s.byAddr[ip] = l
	s.serial++
	return nil
}

// Remove unpublishes name; an unknown name is not an error.
func (s *Server) Remove(name string) {
	l, err := s.label(name)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ip, ok := s.byName[l]; ok {
		delete(s.byAddr, ip)
		delete(s.byName, l)
		s.serial++
	}
}

// Replace swaps the whole record set for records (name → address), as when
// a data file is reloaded.
func (s *Server) Replace(records map[string]netip.Addr) error {
	byName := make(map[string]netip.Addr, len(records))
	byAddr := make(map[netip.Addr]string, len(records))
	for n, ip := range records {
		l, err := s.label(n)
		if err != nil {
			return err
		}
		byName[l], byAddr[ip.Unmap()] = ip.Unmap(), l
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byName, s.byAddr = byName, byAddr
	s.serial++
	return nil
}

// Lookup returns the address published for name.
func (s *Server) Lookup(name string) (netip.Addr, bool) {
	l, err := s.label(name)
	if err != nil {
		return netip.Addr{}, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	ip, ok := s.byName[l]
	return ip, ok
}
