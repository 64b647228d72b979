package nat

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/google/nftables"
)

// ruleHandles lists "chain:handle:comment" for every rule of banger's table.
func ruleHandles(t *testing.T, c *nftables.Conn) []string {
	t.Helper()
	table := &nftables.Table{Name: TableName, Family: nftables.TableFamilyINet}
	var out []string
	for _, ch := range []string{"forward", "postrouting", "output"} {
		rules, err := c.GetRules(table, &nftables.Chain{Name: ch, Table: table})
		if err != nil {
			continue
		}
		for _, r := range rules {
			out = append(out, fmt.Sprintf("%s:%d:%s", ch, r.Handle, ruleComment(r)))
		}
	}
	return out
}

// TestEnsureBaseLeavesIdenticalRulesAlone: a daemon restart calls
// EnsureBase again; when the base rules are already right it must not
// rewrite them (their handles, and so `nft -j list table` output, stay the
// same), and when one was removed out of band it must restore them.
func TestEnsureBaseLeavesIdenticalRulesAlone(t *testing.T) {
	ns := newNetns(t)
	ctx := context.Background()
	c, err := nftables.New(nftables.WithNetNSFd(int(ns)))
	if err != nil {
		t.Fatal(err)
	}
	uid := 1000
	for _, owner := range []*int{nil, &uid} {
		fw := NewNftablesInNetNS(int(ns))
		fw.Owner = owner
		if err := fw.EnsureBase(ctx, "bgtbr0", testSubnet); err != nil {
			t.Skipf("nftables unusable in a netns: %v", err)
		}
		if err := fw.AddVM(ctx, mustRule("web", "10.213.0.2", "up0")); err != nil {
			t.Fatal(err)
		}
		before := ruleHandles(t, c)
		for range 3 {
			if err := fw.EnsureBase(ctx, "bgtbr0", testSubnet); err != nil {
				t.Fatal(err)
			}
		}
		if after := ruleHandles(t, c); !slices.Equal(before, after) {
			t.Fatalf("owner %v: EnsureBase rewrote identical rules:\nbefore %v\nafter  %v", owner, before, after)
		}

		// Out-of-band damage: delete one base drop; EnsureBase restores both.
		table := &nftables.Table{Name: TableName, Family: nftables.TableFamilyINet}
		fwdCh := &nftables.Chain{Name: "forward", Table: table}
		rules, _ := c.GetRules(table, fwdCh)
		for _, r := range rules {
			if ruleComment(r) == baseComment {
				_ = c.DelRule(r)
				break
			}
		}
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := fw.EnsureBase(ctx, "bgtbr0", testSubnet); err != nil {
			t.Fatal(err)
		}
		got := ruleComments(t, c)
		wantFwd := []string{commentPrefix + "web", commentPrefix + "web", baseComment, baseComment}
		if !slices.Equal(got["forward"], wantFwd) {
			t.Fatalf("owner %v: forward after repair = %v, want %v", owner, got["forward"], wantFwd)
		}
		// established, owner, root, drop into the bridge; owner, root, drop to the gateway
		if owner != nil && len(got["output"]) != 7 {
			t.Fatalf("owner rules after repair = %v", got["output"])
		}
		if err := fw.Teardown(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
