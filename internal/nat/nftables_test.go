package nat

import (
	"context"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

var testSubnet = netip.MustParsePrefix("10.213.0.0/24")

func mustRule(name, ip, out string) Rule {
	return Rule{Name: name, IP: netip.MustParseAddr(ip), OutIface: out}
}

// ruleComments returns the comments of every rule in banger's table.
func ruleComments(t *testing.T, c *nftables.Conn) map[string][]string {
	t.Helper()
	table := &nftables.Table{Name: TableName, Family: nftables.TableFamilyINet}
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, ch := range chains {
		if ch.Table.Name != TableName {
			continue
		}
		rules, err := c.GetRules(table, ch)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			out[ch.Name] = append(out[ch.Name], ruleComment(r))
		}
	}
	return out
}

func TestNftablesRuleset(t *testing.T) {
	ns := newNetns(t)
	ctx := context.Background()
	c, err := nftables.New(nftables.WithNetNSFd(int(ns)))
	if err != nil {
		t.Fatal(err)
	}
	// A foreign table with a rule that banger must never touch.
	foreign := c.AddTable(&nftables.Table{Name: "bgtforeign", Family: nftables.TableFamilyIPv4})
	fch := c.AddChain(&nftables.Chain{Name: "input", Table: foreign, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter})
	c.AddRule(&nftables.Rule{Table: foreign, Chain: fch, Exprs: []expr.Any{&expr.Counter{}}})
	if err := c.Flush(); err != nil {
		t.Skipf("nftables unusable in a netns: %v", err)
	}

	fw := NewNftablesInNetNS(int(ns))
	if err := fw.AddVM(ctx, mustRule("web", "10.213.0.2", "up0")); err == nil {
		t.Fatal("AddVM before EnsureBase succeeded")
	}
	for range 2 { // idempotent
		if err := fw.EnsureBase(ctx, "bgtbr0", testSubnet); err != nil {
			t.Fatal(err)
		}
	}
	got := ruleComments(t, c)
	if !slices.Equal(got["forward"], []string{baseComment, baseComment}) || len(got["postrouting"]) != 0 {
		t.Fatalf("base ruleset = %v", got)
	}
	web, db := mustRule("web", "10.213.0.2", "up0"), mustRule("db", "10.213.0.3", "up0")
	for _, r := range []Rule{web, db, web} { // adding web twice replaces it
		if err := fw.AddVM(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got = ruleComments(t, c)
	if len(got["forward"]) != 6 || len(got["postrouting"]) != 2 {
		t.Fatalf("ruleset after adds = %v", got)
	}
	if got["forward"][4] != baseComment || got["forward"][5] != baseComment {
		t.Fatalf("base drops are not last: %v", got["forward"])
	}
	list, err := fw.List(ctx)
	if err != nil || !slices.EqualFunc(list, []Rule{db, web}, sameRule) {
		t.Fatalf("List = %v, %v", list, err)
	}

	if err := fw.RemoveVM(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	got = ruleComments(t, c)
	want := map[string][]string{"forward": {"banger:vm=db", "banger:vm=db", baseComment, baseComment}, "postrouting": {"banger:vm=db"}}
	if !slices.Equal(got["forward"], want["forward"]) || !slices.Equal(got["postrouting"], want["postrouting"]) {
		t.Fatalf("after RemoveVM = %v", got)
	}
	if err := fw.RemoveVM(ctx, "web"); err != nil {
		t.Fatalf("second RemoveVM: %v", err)
	}

	// Sync: db moves to another address, cache is new, web stays gone.
	db2, cache := mustRule("db", "10.213.0.9", "up0"), mustRule("cache", "10.213.0.4", "up0")
	if err := fw.Sync(ctx, []Rule{db2, cache}); err != nil {
		t.Fatal(err)
	}
	list, _ = fw.List(ctx)
	if !slices.EqualFunc(list, []Rule{cache, db2}, sameRule) {
		t.Fatalf("List after Sync = %v", list)
	}
	if n := len(ruleComments(t, c)["forward"]); n != 6 {
		t.Fatalf("forward rules after Sync = %d", n)
	}
	// A fresh instance (daemon restart) sees the same rules.
	if l2, _ := NewNftablesInNetNS(int(ns)).List(ctx); !slices.EqualFunc(l2, list, sameRule) {
		t.Fatalf("fresh List = %v", l2)
	}

	if err := fw.Teardown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListTableOfFamily(TableName, nftables.TableFamilyINet); err == nil {
		t.Fatal("banger table survived Teardown")
	}
	if _, err := c.ListTableOfFamily("bgtforeign", nftables.TableFamilyIPv4); err != nil {
		t.Fatalf("foreign table gone: %v", err)
	}
	if rules, err := c.GetRules(foreign, fch); err != nil || len(rules) != 1 {
		t.Fatalf("foreign rules = %v, %v", rules, err)
	}
	if err := fw.Teardown(ctx); err != nil {
		t.Fatalf("second Teardown: %v", err)
	}
	if l, err := fw.List(ctx); err != nil || len(l) != 0 {
		t.Fatalf("List after Teardown = %v, %v", l, err)
	}
}
