package dns

import "net/netip"

// Publisher makes a VM's name resolvable. The daemon publishes on VM start
// and unpublishes on stop/delete.
type Publisher interface {
	// Publish points name (a VM name, e.g. "calm-otter") at ip.
	Publish(name string, ip netip.Addr) error
	// Unpublish removes name; an unknown name is not an error.
	Unpublish(name string) error
	// Name is the publisher's name for logs and `banger doctor`
	// ("builtin" or "mapdns").
	Name() string
}

var (
	_ Publisher = (*Server)(nil)
	_ Publisher = (*Mapdns)(nil)
)

// Publish implements Publisher with Set.
func (s *Server) Publish(name string, ip netip.Addr) error { return s.Set(name, ip) }

// Unpublish implements Publisher with Remove.
func (s *Server) Unpublish(name string) error {
	if _, err := s.label(name); err != nil {
		return err
	}
	s.Remove(name)
	return nil
}

// Name implements Publisher.
func (s *Server) Name() string { return "builtin" }
