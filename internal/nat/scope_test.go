package nat

import (
	"context"
	"testing"

	"github.com/bangerdev/banger/internal/testenv"
)

func TestScopeFor(t *testing.T) {
	if s := ScopeFor("banger0"); s.Table != "banger" || s.FwdChain != "BANGER-FWD" || s.PostChain != "BANGER-POST" {
		t.Fatalf("default scope = %+v", s)
	}
	s := ScopeFor("bgte1a2b")
	if s.Table != "banger-bgte1a2b" || s.FwdChain != "BANGER-FWD-bgte1a2b" || s.PostChain != "BANGER-POST-bgte1a2b" {
		t.Fatalf("scope = %+v", s)
	}
	// iptables chain names are limited to 28 characters.
	if long := ScopeFor("abcdefghijklmno"); len(long.PostChain) > 28 {
		t.Fatalf("chain %q too long for iptables", long.PostChain)
	}
}

func TestDetectForAppliesScope(t *testing.T) {
	testenv.RequireRootQuick(t, "talks to netfilter")
	fw, _, err := DetectFor(context.Background(), "bgtscope0")
	if err != nil {
		t.Skipf("no firewall backend here: %v", err)
	}
	switch f := fw.(type) {
	case *Nftables:
		if f.tableName() != "banger-bgtscope0" {
			t.Fatalf("table = %q", f.tableName())
		}
	case *Iptables:
		if f.fwd() != "BANGER-FWD-bgtscope0" || f.post() != "BANGER-POST-bgtscope0" {
			t.Fatalf("chains = %q %q", f.fwd(), f.post())
		}
	}
}
