package nat

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/execx"
)

func TestIptablesRuleset(t *testing.T) {
	if !execx.Have("iptables") {
		t.Skip("iptables not installed")
	}
	ns := newNetns(t)
	ctx := context.Background()
	inNetns(t, ns, func() {
		ipt := func(args ...string) string {
			t.Helper()
			out, err := execx.Output(ctx, append([]string{"iptables", "-w"}, args...)...)
			if err != nil {
				t.Fatal(err)
			}
			return string(out)
		}
		// A foreign chain and rule that must survive.
		ipt("-N", "BGTFOREIGN")
		ipt("-A", "FORWARD", "-j", "BGTFOREIGN")
		fw := NewIptables()
		for range 2 {
			if err := fw.EnsureBase(ctx, "bgtbr0", testSubnet); err != nil {
				t.Fatal(err)
			}
		}
		if n := strings.Count(ipt("-S", "FORWARD"), "-j "+ChainForward); n != 1 {
			t.Fatalf("%d jumps to %s", n, ChainForward)
		}
		if n := strings.Count(ipt("-S", ChainForward), baseComment); n != 2 {
			t.Fatalf("%d base rules", n)
		}
		web, db := mustRule("web", "10.213.0.2", "up0"), mustRule("db", "10.213.0.3", "up0")
		for _, r := range []Rule{web, db, web} {
			if err := fw.AddVM(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		fwd := ipt("-S", ChainForward)
		if strings.Count(fwd, "banger:vm=web") != 2 || strings.Count(fwd, "banger:vm=db") != 2 {
			t.Fatalf("forward chain:\n%s", fwd)
		}
		list, err := fw.List(ctx)
		if err != nil || !slices.EqualFunc(list, []Rule{db, web}, sameRule) {
			t.Fatalf("List = %v, %v", list, err)
		}
		if err := fw.RemoveVM(ctx, "web"); err != nil {
			t.Fatal(err)
		}
		all := ipt("-S") + ipt("-t", "nat", "-S")
		if strings.Contains(all, "banger:vm=web") || strings.Count(all, "banger:vm=db") != 3 {
			t.Fatalf("after RemoveVM:\n%s", all)
		}
		cache := mustRule("cache", "10.213.0.4", "up0")
		if err := fw.Sync(ctx, []Rule{cache}); err != nil {
			t.Fatal(err)
		}
		if list, _ := fw.List(ctx); !slices.EqualFunc(list, []Rule{cache}, sameRule) {
			t.Fatalf("List after Sync = %v", list)
		}
		if err := fw.Teardown(ctx); err != nil {
			t.Fatal(err)
		}
		all = ipt("-S") + ipt("-t", "nat", "-S")
		if strings.Contains(all, "BANGER") || strings.Contains(all, "banger:") {
			t.Fatalf("left behind:\n%s", all)
		}
		if !strings.Contains(all, "-A FORWARD -j BGTFOREIGN") {
			t.Fatalf("foreign rule removed:\n%s", all)
		}
		if err := fw.Teardown(ctx); err != nil {
			t.Fatalf("second Teardown: %v", err)
		}
	})
}
