package nat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// Nftables is the Firewall on banger's own nftables table (family inet),
// spoken to through netlink.
type Nftables struct {
	// Table is the table name; TableName when empty (see ScopeFor).
	Table string
	// Owner, when set, restricts new connections from this host into the
	// bridge to sockets of that uid and of root, so other accounts on a
	// shared host cannot reach the owner's VMs (see docs/security.md).
	Owner *int

	opts []nftables.ConnOption

	mu     sync.Mutex
	bridge string
}

// NewNftables returns the nftables Firewall for the caller's network
// namespace.
func NewNftables() *Nftables { return &Nftables{} }

// NewNftablesInNetNS returns the nftables Firewall for the network namespace
// open at fd (used by tests to stay off the host ruleset).
func NewNftablesInNetNS(fd int) *Nftables {
	return &Nftables{opts: []nftables.ConnOption{nftables.WithNetNSFd(fd)}}
}

var _ Firewall = (*Nftables)(nil)

// Backend implements Firewall.
func (n *Nftables) Backend() string { return BackendNftables }

func (n *Nftables) conn() (*nftables.Conn, error) {
	c, err := nftables.New(n.opts...)
	if err != nil {
		return nil, fmt.Errorf("open nftables netlink socket: %w: banger needs root or, for an ordinary account, a one-time 'sudo banger system install --user $USER'", err)
	}
	return c, nil
}

func (n *Nftables) table() *nftables.Table {
	return &nftables.Table{Name: n.tableName(), Family: nftables.TableFamilyINet}
}

func (n *Nftables) chains(t *nftables.Table) (fwd, post *nftables.Chain) {
	accept := nftables.ChainPolicyAccept
	fwd = &nftables.Chain{Name: "forward", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &accept}
	post = &nftables.Chain{Name: "postrouting", Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource, Policy: &accept}
	return fwd, post
}

// EnsureBase implements Firewall.
func (n *Nftables) EnsureBase(ctx context.Context, bridge string, subnet netip.Prefix) error {
	if err := validateBridge(bridge, subnet); err != nil {
		return err
	}
	return n.locked(ctx, func(c *nftables.Conn) error {
		t := c.AddTable(n.table())
		fwd, post := n.chains(t)
		c.AddChain(fwd)
		c.AddChain(post)
		if err := c.Flush(); err != nil {
			return fmt.Errorf("create nftables table %s: %w: check that the kernel has nf_tables with NAT (modprobe nf_tables nft_chain_nat)", n.tableName(), err)
		}
		// iifname bridge oifname != bridge drop; oifname bridge iifname != bridge drop
		want := [][]expr.Any{
			concat(ifname(expr.MetaKeyIIFNAME, expr.CmpOpEq, bridge), ifname(expr.MetaKeyOIFNAME, expr.CmpOpNeq, bridge), verdict(expr.VerdictDrop)),
			concat(ifname(expr.MetaKeyOIFNAME, expr.CmpOpEq, bridge), ifname(expr.MetaKeyIIFNAME, expr.CmpOpNeq, bridge), verdict(expr.VerdictDrop)),
		}
		if err := n.replaceBase(c, t, fwd, want, false); err != nil {
			return err
		}
		if n.Owner != nil {
			if err := n.ownerRules(c, t, bridge, subnet, *n.Owner); err != nil {
				return err
			}
		}
		if err := c.Flush(); err != nil {
			return fmt.Errorf("add nftables base rules: %w", err)
		}
		n.bridge = bridge
		return nil
	})
}

// ownerRules (re)writes the output chain that lets only uid and root open
// connections from this host to the VMs on bridge, and to the bridge's
// gateway address (where the user's DNS listens: local traffic to it
// leaves by lo, not by the bridge); replies and related traffic pass.
func (n *Nftables) ownerRules(c *nftables.Conn, t *nftables.Table, bridge string, subnet netip.Prefix, uid int) error {
	accept := nftables.ChainPolicyAccept
	out := c.AddChain(&nftables.Chain{Name: "output", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityFilter, Policy: &accept})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("create nftables chain %s output: %w", n.tableName(), err)
	}
	oif := ifname(expr.MetaKeyOIFNAME, expr.CmpOpEq, bridge)
	want := [][]expr.Any{concat(oif, ctEstablished(), verdict(expr.VerdictAccept))}
	for _, id := range []int{uid, 0} {
		want = append(want, concat(oif, []expr.Any{
			&expr.Meta{Key: expr.MetaKeySKUID, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(uint32(id))},
		}, verdict(expr.VerdictAccept)))
	}
	want = append(want, concat(oif, verdict(expr.VerdictDrop)))
	gw := subnet.Masked().Addr().Next().AsSlice()
	for _, id := range []int{uid, 0} {
		want = append(want, concat(ipv4Addr(16, gw), []expr.Any{
			&expr.Meta{Key: expr.MetaKeySKUID, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(uint32(id))},
		}, verdict(expr.VerdictAccept)))
	}
	want = append(want, concat(ipv4Addr(16, gw), verdict(expr.VerdictDrop)))
	return n.replaceBase(c, t, out, want, true)
}

// replaceBase makes the base rules of chain ch exactly want, in order. When
// they already are, it changes nothing, so rule handles stay the same across
// daemon restarts; otherwise it deletes the old base rules (every rule of
// the chain when all is set) and appends want.
func (n *Nftables) replaceBase(c *nftables.Conn, t *nftables.Table, ch *nftables.Chain, want [][]expr.Any, all bool) error {
	rules, err := c.GetRules(t, ch)
	if err != nil {
		return fmt.Errorf("list nftables chain %s %s: %w", n.tableName(), ch.Name, err)
	}
	var old []*nftables.Rule
	for _, r := range rules {
		if all || ruleComment(r) == baseComment {
			old = append(old, r)
		}
	}
	if sameExprs(old, want) {
		return nil
	}
	for _, r := range old {
		if err := c.DelRule(r); err != nil {
			return fmt.Errorf("replace base rule in %s %s: %w", n.tableName(), ch.Name, err)
		}
	}
	ud := userdata.AppendString(nil, userdata.TypeComment, baseComment)
	for _, exprs := range want {
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, UserData: ud, Exprs: exprs})
	}
	return nil
}

// sameExprs reports whether the rules have exactly the expressions of want,
// in order, and each carries the base comment.
func sameExprs(rules []*nftables.Rule, want [][]expr.Any) bool {
	if len(rules) != len(want) {
		return false
	}
	for i, r := range rules {
		if ruleComment(r) != baseComment || !reflect.DeepEqual(r.Exprs, want[i]) {
			return false
		}
	}
	return true
}

// AddVM implements Firewall.
func (n *Nftables) AddVM(ctx context.Context, r Rule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return n.locked(ctx, func(c *nftables.Conn) error {
		if n.bridge == "" {
			return errors.New("nat: EnsureBase must run before AddVM")
		}
		t := n.table()
		fwd, post := n.chains(t)
		if err := n.deleteVM(c, t, r.Name, fwd, post); err != nil {
			return err
		}
		n.queueVM(c, t, fwd, post, r)
		if err := c.Flush(); err != nil {
			return fmt.Errorf("add nat rules for vm %s: %w", r.Name, err)
		}
		return nil
	})
}

// queueVM queues the three rules of r: forward out, replies back, and the
// masquerade.
func (n *Nftables) queueVM(c *nftables.Conn, t *nftables.Table, fwd, post *nftables.Chain, r Rule) {
	ud := userdata.AppendString(nil, userdata.TypeComment, comment(r.Name))
	ip := r.IP.AsSlice()
	// Inserted at the top so they come before the base drops.
	c.InsertRule(&nftables.Rule{Table: t, Chain: fwd, UserData: ud, Exprs: concat(
		ifname(expr.MetaKeyIIFNAME, expr.CmpOpEq, n.bridge),
		ifname(expr.MetaKeyOIFNAME, expr.CmpOpEq, r.OutIface),
		ipv4Addr(12, ip),
		verdict(expr.VerdictAccept))})
	c.InsertRule(&nftables.Rule{Table: t, Chain: fwd, UserData: ud, Exprs: concat(
		ifname(expr.MetaKeyIIFNAME, expr.CmpOpEq, r.OutIface),
		ifname(expr.MetaKeyOIFNAME, expr.CmpOpEq, n.bridge),
		ipv4Addr(16, ip),
		ctEstablished(),
		verdict(expr.VerdictAccept))})
	c.AddRule(&nftables.Rule{Table: t, Chain: post, UserData: ud, Exprs: concat(
		ifname(expr.MetaKeyOIFNAME, expr.CmpOpEq, r.OutIface),
		ipv4Addr(12, ip),
		[]expr.Any{&expr.Masq{}})})
}

// RemoveVM implements Firewall.
func (n *Nftables) RemoveVM(ctx context.Context, name string) error {
	if err := validateName(name); err != nil {
		return err
	}
	return n.locked(ctx, func(c *nftables.Conn) error {
		t := n.table()
		if !n.tableExists(c) {
			return nil
		}
		fwd, post := n.chains(t)
		if err := n.deleteVM(c, t, name, fwd, post); err != nil {
			return err
		}
		if err := c.Flush(); err != nil {
			return fmt.Errorf("remove nat rules for vm %s: %w", name, err)
		}
		return nil
	})
}

// deleteVM queues the deletion of every rule commented for name.
func (n *Nftables) deleteVM(c *nftables.Conn, t *nftables.Table, name string, chains ...*nftables.Chain) error {
	want := comment(name)
	for _, ch := range chains {
		rules, err := c.GetRules(t, ch)
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			return fmt.Errorf("list nftables chain %s %s: %w", n.tableName(), ch.Name, err)
		}
		for _, r := range rules {
			if ruleComment(r) == want {
				if err := c.DelRule(r); err != nil {
					return fmt.Errorf("delete rule of vm %s: %w", name, err)
				}
			}
		}
	}
	return nil
}

// List implements Firewall. It reads the masquerade rules of the
// postrouting chain.
func (n *Nftables) List(ctx context.Context) ([]Rule, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := n.conn()
	if err != nil {
		return nil, err
	}
	if !n.tableExists(c) {
		return nil, nil
	}
	t := n.table()
	_, post := n.chains(t)
	rules, err := c.GetRules(t, post)
	if err != nil {
		return nil, fmt.Errorf("list nftables chain %s postrouting: %w", n.tableName(), err)
	}
	var out []Rule
	for _, r := range rules {
		name, ok := strings.CutPrefix(ruleComment(r), commentPrefix)
		if !ok {
			continue
		}
		out = append(out, parseMasq(name, r.Exprs))
	}
	slices.SortFunc(out, func(a, b Rule) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Sync implements Firewall as one nftables transaction: every removal and
// addition is queued and committed together, so the table goes from the
// old rule set to want at once, or not at all.
func (n *Nftables) Sync(ctx context.Context, want []Rule) error {
	for _, r := range want {
		if err := r.Validate(); err != nil {
			return err
		}
	}
	have, err := n.List(ctx)
	if err != nil {
		return err
	}
	return n.locked(ctx, func(c *nftables.Conn) error {
		if n.bridge == "" {
			return errors.New("nat: EnsureBase must run before Sync")
		}
		t := n.table()
		fwd, post := n.chains(t)
		wantBy := make(map[string]Rule, len(want))
		for _, r := range want {
			wantBy[r.Name] = r
		}
		keep := map[string]bool{}
		for _, h := range have {
			if w, ok := wantBy[h.Name]; ok && sameRule(w, h) {
				keep[h.Name] = true
				continue
			}
			if err := n.deleteVM(c, t, h.Name, fwd, post); err != nil {
				return err
			}
		}
		for _, w := range want {
			if !keep[w.Name] {
				n.queueVM(c, t, fwd, post, w)
			}
		}
		if err := c.Flush(); err != nil {
			return fmt.Errorf("sync nat rules (%d VMs): %w", len(want), err)
		}
		return nil
	})
}

// Teardown implements Firewall.
func (n *Nftables) Teardown(ctx context.Context) error {
	return n.locked(ctx, func(c *nftables.Conn) error {
		if !n.tableExists(c) {
			return nil
		}
		c.DelTable(n.table())
		if err := c.Flush(); err != nil {
			return fmt.Errorf("delete nftables table %s: %w", n.tableName(), err)
		}
		n.bridge = ""
		return nil
	})
}

func (n *Nftables) tableExists(c *nftables.Conn) bool {
	_, err := c.ListTableOfFamily(n.tableName(), nftables.TableFamilyINet)
	return err == nil
}

func ruleComment(r *nftables.Rule) string {
	s, _ := userdata.GetString(r.UserData, userdata.TypeComment)
	return s
}

func concat(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// ifname compares the input or output interface name with name.
func ifname(key expr.MetaKey, op expr.CmpOp, name string) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: op, Register: 1, Data: ifnameBytes(name)},
	}
}

func ifnameBytes(name string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return b
}

// ipv4Addr matches an IPv4 packet whose source (offset 12) or destination
// (offset 16) address is ip.
func ipv4Addr(offset uint32, ip []byte) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.NFPROTO_IPV4}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ip},
	}
}

// ctEstablished matches ct state established,related.
func ctEstablished() []expr.Any {
	mask := binaryutil.NativeEndian.PutUint32(expr.CtStateBitESTABLISHED | expr.CtStateBitRELATED)
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{0, 0, 0, 0}},
	}
}

func verdict(k expr.VerdictKind) []expr.Any { return []expr.Any{&expr.Verdict{Kind: k}} }

// parseMasq recovers the address and output interface of a masquerade rule
// built by AddVM.
func parseMasq(name string, exprs []expr.Any) Rule {
	r := Rule{Name: name}
	var last expr.Any
	for _, e := range exprs {
		if cmp, ok := e.(*expr.Cmp); ok && cmp.Op == expr.CmpOpEq {
			switch l := last.(type) {
			case *expr.Meta:
				if l.Key == expr.MetaKeyOIFNAME {
					r.OutIface = string(bytes.TrimRight(cmp.Data, "\x00"))
				}
			case *expr.Payload:
				if l.Offset == 12 && len(cmp.Data) == 4 {
					r.IP = netip.AddrFrom4([4]byte(cmp.Data))
				}
			}
		}
		last = e
	}
	return r
}

func (n *Nftables) tableName() string {
	if n.Table != "" {
		return n.Table
	}
	return TableName
}

// locked runs fn with the table lock held and a fresh netlink connection,
// after checking ctx: the common prologue of every change.
func (n *Nftables) locked(ctx context.Context, fn func(c *nftables.Conn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	c, err := n.conn()
	if err != nil {
		return err
	}
	return fn(c)
}
