package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
)

// NetlinkManager is the real Manager. It changes links in the network
// namespace of the calling thread (the host namespace in bangerd).
type NetlinkManager struct {
	// TapOwner and TapGroup are the uid and gid that own new taps and so
	// may open them without privilege (the user whose VMM uses them); 0 is
	// root. The kernel checks both when a tap has both set, and the
	// netlink library always sets both, so the group must be one the
	// VMM's process is in.
	TapOwner, TapGroup uint32
}

// NewNetlinkManager returns the netlink-backed Manager.
func NewNetlinkManager() *NetlinkManager { return &NetlinkManager{} }

var _ Manager = (*NetlinkManager)(nil)

// EnsureBridge implements Manager.
func (m *NetlinkManager) EnsureBridge(ctx context.Context, name string, subnet netip.Prefix) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validIfaceName(name); err != nil {
		return fmt.Errorf("ensure bridge: %w", err)
	}
	if err := ValidateSubnet(subnet); err != nil {
		return fmt.Errorf("ensure bridge %s: %w", name, err)
	}
	link, err := lookup(name)
	switch {
	case errors.Is(err, ErrNotFound):
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
		if err := netlink.LinkAdd(br); err != nil {
			return fmt.Errorf("create bridge %s: %w: run 'sudo banger system install --user $USER' once, or run banger as root", name, err)
		}
		if link, err = lookup(name); err != nil {
			return fmt.Errorf("create bridge %s: %w", name, err)
		}
	case err != nil:
		return fmt.Errorf("ensure bridge %s: %w", name, err)
	case link.Type() != "bridge":
		return fmt.Errorf("ensure bridge %s: a %s link of that name already exists: set bridge_name to a free name or remove that link", name, link.Type())
	}
	// Before the bridge is up: no IPv6 on it (no router advertisement a
	// guest sends can give the host routes or addresses), and IPv4
	// forwarding on it alone.
	if err := hardenBridge(name); err != nil {
		return err
	}
	gw := GatewayPrefix(subnet)
	addr := &netlink.Addr{IPNet: prefixToIPNet(gw)}
	if err := netlink.AddrReplace(link, addr); err != nil {
		return fmt.Errorf("assign %s to bridge %s: %w", gw, name, err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("bring up bridge %s: %w", name, err)
	}
	return nil
}

// TeardownBridge implements Manager.
func (m *NetlinkManager) TeardownBridge(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	link, err := lookupOwned(name, "bridge", "tear down bridge")
	if link == nil || err != nil {
		return err
	}
	ports, err := m.Ports(ctx, name)
	if err != nil {
		return err
	}
	if len(ports) > 0 {
		return fmt.Errorf("tear down bridge %s: %w (%v): stop the VMs using it first", name, ErrBridgeInUse, ports)
	}
	if err := netlink.LinkDel(link); err != nil {
		return fmt.Errorf("delete bridge %s: %w", name, err)
	}
	return nil
}

// CreateTap implements Manager.
func (m *NetlinkManager) CreateTap(ctx context.Context, name, bridge string) error {
	_, err := m.EnsureTap(ctx, name, bridge)
	return err
}

// EnsureTap is CreateTap that also reports whether it created the tap
// (false: it was already there, the manager's own). It creates with
// "must not exist" semantics; for an existing link it reads kind, owner
// and master from one netlink answer and acts on that interface index.
func (m *NetlinkManager) EnsureTap(ctx context.Context, name, bridge string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := validIfaceName(name); err != nil {
		return false, fmt.Errorf("create tap: %w", err)
	}
	br, err := ReadLink(bridge)
	if errors.Is(err, ErrNotFound) {
		return false, fmt.Errorf("create tap %s: bridge %s does not exist: restart bangerd so it recreates the VM network", name, bridge)
	}
	if err != nil {
		return false, fmt.Errorf("create tap %s: %w", name, err)
	}
	err = createTapExclusive(name, m.TapOwner, m.TapGroup)
	created := err == nil
	if err != nil && !errors.Is(err, errTapExists) {
		return false, fmt.Errorf("create tap %s: %w; run 'sudo banger system install --user $USER' once or run banger as root", name, err)
	}
	info, err := ReadLink(name)
	if err != nil {
		return false, fmt.Errorf("create tap %s: %w", name, err)
	}
	if err := m.owns(name, info); err != nil {
		return false, fmt.Errorf("create tap %s: %w", name, err)
	}
	if info.Master != 0 && info.Master != br.Index {
		return false, fmt.Errorf("create tap %s: refused: it is attached to another bridge (index %d), not to %s", name, info.Master, bridge)
	}
	link := &netlink.Tuntap{LinkAttrs: netlink.LinkAttrs{Index: info.Index, Name: name}}
	fail := func(step string, err error) (bool, error) {
		if created {
			_ = deleteIndex(info.Index)
		}
		return false, fmt.Errorf("%s tap %s: %w", step, name, err)
	}
	if err := netlink.LinkSetMasterByIndex(link, br.Index); err != nil {
		return fail("attach to bridge "+bridge+":", err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fail("bring up", err)
	}
	return created, nil
}

// owns checks that info is a tap owned by the manager's TapOwner: banger
// never uses, re-attaches or deletes a tap another uid (or nobody) owns.
func (m *NetlinkManager) owns(name string, info LinkInfo) error {
	if info.Kind != "tun" || !info.Tap {
		kind := info.Kind
		if kind == "" {
			kind = "device"
		}
		return fmt.Errorf("refused: a %s link called %s already exists and is not a tap banger made: remove it or rename the VM", kind, name)
	}
	if info.Owner != int64(m.TapOwner) {
		return fmt.Errorf("refused: tap %s belongs to %s, not to you (uid %d); banger never takes over a tap it did not create: remove it with 'ip link del %s' if it is stale", name, ownerString(info.Owner), m.TapOwner, name)
	}
	return nil
}

// DeleteTap implements Manager.
func (m *NetlinkManager) DeleteTap(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	info, err := ReadLink(name)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete tap %s: %w", name, err)
	}
	if err := m.owns(name, info); err != nil {
		return fmt.Errorf("delete tap %s: %w", name, err)
	}
	if err := deleteIndex(info.Index); err != nil {
		return fmt.Errorf("delete tap %s: %w", name, err)
	}
	return nil
}

// Ports implements Manager.
func (m *NetlinkManager) Ports(ctx context.Context, bridge string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	br, err := lookup(bridge)
	if err != nil {
		return nil, fmt.Errorf("list ports of %s: %w", bridge, err)
	}
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	var ports []string
	for _, l := range links {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			ports = append(ports, l.Attrs().Name)
		}
	}
	slices.Sort(ports)
	return ports, nil
}

// lookup finds a link by name, mapping "no such link" to ErrNotFound.
func lookup(name string) (netlink.Link, error) {
	link, err := netlink.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("%s: %w", name, ErrNotFound)
		}
		return nil, fmt.Errorf("look up link %s: %w", name, err)
	}
	return link, nil
}

// lookupOwned finds link name for a removal: nil and no error when it is
// already gone, an error when it exists but is not of the expected type (so
// banger never removes a link it did not make).
func lookupOwned(name, wantType, action string) (netlink.Link, error) {
	link, err := lookup(name)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", action, name, err)
	}
	if link.Type() != wantType {
		return nil, fmt.Errorf("%s %s: link is a %s, not a %s; leaving it alone", action, name, link.Type(), wantType)
	}
	return link, nil
}
