// Package nat gives banger VMs opt-in access to the outside world and keeps
// every other VM host-only.
//
// A Firewall owns banger's own rules and nothing else: an nftables table
// named "banger" (family inet) when nftables is usable, or the iptables
// chains BANGER-FWD (filter) and BANGER-POST (nat) jumped to from FORWARD
// and POSTROUTING as the fallback. Every rule carries the comment
// "banger:vm=<name>" (per-VM rules) or "banger:base" (the base rules), so
// RemoveVM and Teardown remove exactly banger's rules.
//
// The base rules drop traffic forwarded between the VM bridge and any other
// interface, in both directions, so a VM without NAT cannot reach the
// outside even when the host forwards packets (net.ipv4.ip_forward=1);
// host<->VM and VM<->VM traffic does not cross the forward hook between
// different interfaces and stays allowed. AddVM inserts, ahead of those
// drops, an accept for the VM's address out of OutIface, an accept for the
// established/related replies, and a masquerade.
//
// Routed packets enter the forward hook with the bridge, not the tap, as
// input interface, so rules match the bridge plus the VM's address; Rule.Tap
// is kept for the caller's bookkeeping (the fake stores it, List of the real
// backends leaves it empty).
package nat

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
)

// Backend names returned by Firewall.Backend.
const (
	BackendNftables = "nftables"
	BackendIptables = "iptables"
)

// TableName is the nftables table (family inet) that holds banger's rules.
const TableName = "banger"

// iptables chains owned by banger.
const (
	ChainForward     = "BANGER-FWD"
	ChainPostrouting = "BANGER-POST"
)

// baseComment tags the base rules that isolate the bridge.
const baseComment = "banger:base"

// commentPrefix starts the comment of every per-VM rule.
const commentPrefix = "banger:vm="

// Rule is the NAT of one VM.
type Rule struct {
	// Name is the VM name; it identifies the rules ("banger:vm=<name>").
	Name string
	// IP is the VM's IPv4 address on the bridge.
	IP netip.Addr
	// Tap is the VM's tap device (informational, see the package doc).
	Tap string
	// OutIface is the host interface VM traffic leaves by, usually the
	// default route's (network.DefaultRouteInterface).
	OutIface string
}

// Firewall manages banger's NAT rules. Implementations: Nftables, Iptables
// and Fake. Methods are safe to call again with the same arguments.
type Firewall interface {
	// Backend is "nftables" or "iptables".
	Backend() string
	// EnsureBase creates banger's table/chains and the base rules that keep
	// bridge traffic host-only. It must be called before AddVM and Sync.
	EnsureBase(ctx context.Context, bridge string, subnet netip.Prefix) error
	// AddVM adds (or replaces) the NAT rules of r.Name.
	AddVM(ctx context.Context, r Rule) error
	// RemoveVM deletes every rule of the VM name; none present is fine.
	RemoveVM(ctx context.Context, name string) error
	// List returns the VMs that have NAT rules, sorted by name.
	List(ctx context.Context) ([]Rule, error)
	// Sync makes the VM rules match want: removes the rules of VMs not in
	// want (or with another address/interface) and adds the missing ones.
	Sync(ctx context.Context, want []Rule) error
	// Teardown deletes banger's table/chains and nothing else.
	Teardown(ctx context.Context) error
}

var vmNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
var ifaceRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,14}$`)

// validateName checks a VM name is safe to embed in a rule comment.
func validateName(name string) error {
	if !vmNameRE.MatchString(name) {
		return fmt.Errorf("invalid vm name %q for a NAT rule: use letters, digits, '.', '_' or '-' (at most 63)", name)
	}
	return nil
}

// Validate checks r before any rule is written.
func (r Rule) Validate() error {
	if err := validateName(r.Name); err != nil {
		return err
	}
	if !r.IP.Is4() {
		return fmt.Errorf("nat for vm %s: address %v is not IPv4", r.Name, r.IP)
	}
	if !ifaceRE.MatchString(r.OutIface) {
		return fmt.Errorf("nat for vm %s: invalid outgoing interface %q: check that the host has a default route", r.Name, r.OutIface)
	}
	return nil
}

func validateBridge(bridge string, subnet netip.Prefix) error {
	if !ifaceRE.MatchString(bridge) {
		return fmt.Errorf("nat base rules: invalid bridge name %q", bridge)
	}
	if !subnet.IsValid() || !subnet.Addr().Is4() {
		return fmt.Errorf("nat base rules: subnet %v is not an IPv4 prefix", subnet)
	}
	return nil
}

// comment returns the comment that marks the rules of VM name.
func comment(name string) string { return commentPrefix + name }

// sameRule reports whether two rules produce the same firewall state.
func sameRule(a, b Rule) bool {
	return a.Name == b.Name && a.IP == b.IP && a.OutIface == b.OutIface
}

// syncWith implements Sync on top of List, RemoveVM and AddVM.
func syncWith(ctx context.Context, fw Firewall, want []Rule) error {
	for _, r := range want {
		if err := r.Validate(); err != nil {
			return err
		}
	}
	have, err := fw.List(ctx)
	if err != nil {
		return err
	}
	wantBy := make(map[string]Rule, len(want))
	for _, r := range want {
		wantBy[r.Name] = r
	}
	haveBy := make(map[string]Rule, len(have))
	for _, r := range have {
		haveBy[r.Name] = r
		if w, ok := wantBy[r.Name]; !ok || !sameRule(w, r) {
			if err := fw.RemoveVM(ctx, r.Name); err != nil {
				return err
			}
		}
	}
	for _, w := range want {
		if h, ok := haveBy[w.Name]; ok && sameRule(h, w) {
			continue
		}
		if err := fw.AddVM(ctx, w); err != nil {
			return err
		}
	}
	return nil
}
