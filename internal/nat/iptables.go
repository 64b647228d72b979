package nat

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/bangerdev/banger/internal/execx"
)

// Iptables is the fallback Firewall: banger's chains BANGER-FWD (filter)
// and BANGER-POST (nat), jumped to from FORWARD and POSTROUTING, changed by
// running iptables through execx.
type Iptables struct {
	// Bin is the iptables program; "iptables" when empty.
	Bin string
	// FwdChain and PostChain name banger's chains; p.fwd() and
	// p.post() when empty (see ScopeFor).
	FwdChain, PostChain string

	mu     sync.Mutex
	bridge string
}

// NewIptables returns the iptables Firewall.
func NewIptables() *Iptables { return &Iptables{Bin: "iptables"} }

var _ Firewall = (*Iptables)(nil)

// Backend implements Firewall.
func (p *Iptables) Backend() string { return BackendIptables }

func (p *Iptables) run(ctx context.Context, table string, args ...string) ([]byte, error) {
	bin := p.Bin
	if bin == "" {
		bin = "iptables"
	}
	argv := append([]string{bin, "-w", "-t", table}, args...)
	return execx.Output(ctx, argv...)
}

// chainExists reports whether chain exists in table.
func (p *Iptables) chainExists(ctx context.Context, table, chain string) bool {
	_, err := p.run(ctx, table, "-S", chain)
	return err == nil
}

// ensureChain creates chain in table and the jump to it from parent.
func (p *Iptables) ensureChain(ctx context.Context, table, chain, parent string) error {
	if !p.chainExists(ctx, table, chain) {
		if _, err := p.run(ctx, table, "-N", chain); err != nil {
			return fmt.Errorf("create iptables chain %s: %w: banger needs root or, for an ordinary account, a one-time 'sudo banger system install --user $USER'", chain, err)
		}
	}
	if _, err := p.run(ctx, table, "-C", parent, "-j", chain); err != nil {
		if _, err := p.run(ctx, table, "-I", parent, "1", "-j", chain); err != nil {
			return fmt.Errorf("jump from %s to %s: %w", parent, chain, err)
		}
	}
	return nil
}

// EnsureBase implements Firewall.
func (p *Iptables) EnsureBase(ctx context.Context, bridge string, subnet netip.Prefix) error {
	if err := validateBridge(bridge, subnet); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.ensureChain(ctx, "filter", p.fwd(), "FORWARD"); err != nil {
		return err
	}
	if err := p.ensureChain(ctx, "nat", p.post(), "POSTROUTING"); err != nil {
		return err
	}
	if err := p.deleteTagged(ctx, "filter", p.fwd(), baseComment); err != nil {
		return err
	}
	base := [][]string{
		{"-A", p.fwd(), "-i", bridge, "!", "-o", bridge, "-m", "comment", "--comment", baseComment, "-j", "DROP"},
		{"-A", p.fwd(), "-o", bridge, "!", "-i", bridge, "-m", "comment", "--comment", baseComment, "-j", "DROP"},
	}
	for _, args := range base {
		if _, err := p.run(ctx, "filter", args...); err != nil {
			return fmt.Errorf("add iptables base rule: %w", err)
		}
	}
	p.bridge = bridge
	return nil
}

// AddVM implements Firewall.
func (p *Iptables) AddVM(ctx context.Context, r Rule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bridge == "" {
		return errors.New("nat: EnsureBase must run before AddVM")
	}
	if err := p.removeVM(ctx, r.Name); err != nil {
		return err
	}
	ip := r.IP.String() + "/32"
	c := comment(r.Name)
	steps := []struct {
		table string
		args  []string
	}{
		{"nat", []string{"-A", p.post(), "-s", ip, "-o", r.OutIface, "-m", "comment", "--comment", c, "-j", "MASQUERADE"}},
		{"filter", []string{"-I", p.fwd(), "1", "-s", ip, "-i", p.bridge, "-o", r.OutIface, "-m", "comment", "--comment", c, "-j", "ACCEPT"}},
		{"filter", []string{"-I", p.fwd(), "1", "-d", ip, "-i", r.OutIface, "-o", p.bridge, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-m", "comment", "--comment", c, "-j", "ACCEPT"}},
	}
	for _, s := range steps {
		if _, err := p.run(ctx, s.table, s.args...); err != nil {
			_ = p.removeVM(ctx, r.Name)
			return fmt.Errorf("add nat rules for vm %s: %w", r.Name, err)
		}
	}
	return nil
}

// RemoveVM implements Firewall.
func (p *Iptables) RemoveVM(ctx context.Context, name string) error {
	if err := validateName(name); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.removeVM(ctx, name)
}

func (p *Iptables) removeVM(ctx context.Context, name string) error {
	if err := p.deleteTagged(ctx, "filter", p.fwd(), comment(name)); err != nil {
		return err
	}
	return p.deleteTagged(ctx, "nat", p.post(), comment(name))
}

// rules returns the `-A` lines of chain as argv fields.
func (p *Iptables) rules(ctx context.Context, table, chain string) ([][]string, error) {
	if !p.chainExists(ctx, table, chain) {
		return nil, nil
	}
	out, err := p.run(ctx, table, "-S", chain)
	if err != nil {
		return nil, fmt.Errorf("list iptables chain %s: %w", chain, err)
	}
	var rules [][]string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "-A" {
			continue
		}
		for i := range f {
			f[i] = strings.Trim(f[i], `"`)
		}
		rules = append(rules, f)
	}
	return rules, nil
}

// ruleArg returns the value following flag in rule, or "".
func ruleArg(rule []string, flag string) string {
	for i := 0; i+1 < len(rule); i++ {
		if rule[i] == flag && (i == 0 || rule[i-1] != "!") {
			return rule[i+1]
		}
	}
	return ""
}

// deleteTagged deletes every rule of chain whose comment is tag.
func (p *Iptables) deleteTagged(ctx context.Context, table, chain, tag string) error {
	rules, err := p.rules(ctx, table, chain)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if ruleArg(r, "--comment") != tag {
			continue
		}
		args := append([]string{"-D"}, r[1:]...)
		if _, err := p.run(ctx, table, args...); err != nil {
			return fmt.Errorf("delete iptables rule %q: %w", strings.Join(r, " "), err)
		}
	}
	return nil
}

// List implements Firewall.
func (p *Iptables) List(ctx context.Context) ([]Rule, error) {
	rules, err := p.rules(ctx, "nat", p.post())
	if err != nil {
		return nil, err
	}
	var out []Rule
	for _, r := range rules {
		name, ok := strings.CutPrefix(ruleArg(r, "--comment"), commentPrefix)
		if !ok {
			continue
		}
		rule := Rule{Name: name, OutIface: ruleArg(r, "-o")}
		if pfx, err := netip.ParsePrefix(ruleArg(r, "-s")); err == nil {
			rule.IP = pfx.Addr()
		}
		out = append(out, rule)
	}
	slices.SortFunc(out, func(a, b Rule) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Sync implements Firewall.
func (p *Iptables) Sync(ctx context.Context, want []Rule) error { return syncWith(ctx, p, want) }

// Teardown implements Firewall.
func (p *Iptables) Teardown(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range []struct{ table, chain, parent string }{
		{"filter", p.fwd(), "FORWARD"},
		{"nat", p.post(), "POSTROUTING"},
	} {
		for i := 0; i < 16; i++ {
			if _, err := p.run(ctx, c.table, "-C", c.parent, "-j", c.chain); err != nil {
				break
			}
			if _, err := p.run(ctx, c.table, "-D", c.parent, "-j", c.chain); err != nil {
				return fmt.Errorf("remove jump to %s: %w", c.chain, err)
			}
		}
		if !p.chainExists(ctx, c.table, c.chain) {
			continue
		}
		if _, err := p.run(ctx, c.table, "-F", c.chain); err != nil {
			return fmt.Errorf("flush iptables chain %s: %w", c.chain, err)
		}
		if _, err := p.run(ctx, c.table, "-X", c.chain); err != nil {
			return fmt.Errorf("delete iptables chain %s: %w", c.chain, err)
		}
	}
	p.bridge = ""
	return nil
}

func (p *Iptables) fwd() string {
	if p.FwdChain != "" {
		return p.FwdChain
	}
	return ChainForward
}

func (p *Iptables) post() string {
	if p.PostChain != "" {
		return p.PostChain
	}
	return ChainPostrouting
}
