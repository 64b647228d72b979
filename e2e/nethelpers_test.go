package e2e

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// nftRule is one rule of the env's firewall table, as `nft -j` lists it.
type nftRule struct {
	Chain   string
	Handle  int
	Comment string
	// Expr is the rule's match/verdict expression as JSON, for comparing
	// rules and for searching them for names and addresses.
	Expr string
}

// table is the nftables table (family inet) bangerd uses for e.Bridge.
func (e *Env) table() string { return "banger-" + e.Bridge }

// nftRules lists every rule of the env's table; the table must exist.
func (e *Env) nftRules() []nftRule {
	e.t.Helper()
	out, err := exec.Command("nft", "-j", "list", "table", "inet", e.table()).CombinedOutput()
	if err != nil {
		e.t.Fatalf("nft -j list table inet %s: %v\n%s", e.table(), err, out)
	}
	var doc struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		e.t.Fatalf("decode nft json: %v\n%s", err, out)
	}
	var rules []nftRule
	for _, obj := range doc.Nftables {
		raw, ok := obj["rule"]
		if !ok {
			continue
		}
		var r struct {
			Chain   string          `json:"chain"`
			Handle  int             `json:"handle"`
			Comment string          `json:"comment"`
			Expr    json.RawMessage `json:"expr"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			e.t.Fatalf("decode nft rule: %v\n%s", err, raw)
		}
		rules = append(rules, nftRule{Chain: r.Chain, Handle: r.Handle, Comment: r.Comment, Expr: string(r.Expr)})
	}
	return rules
}

// rulesOf returns the rules tagged "banger:vm=<name>".
func rulesOf(rules []nftRule, name string) []nftRule {
	var out []nftRule
	for _, r := range rules {
		if r.Comment == "banger:vm="+name {
			out = append(out, r)
		}
	}
	return out
}

// sameRules reports whether a and b are the same rules with the same
// handles (a rule deleted and re-added gets a new handle).
func sameRules(a, b []nftRule) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkTable asserts that every rule carries a banger comment, that base
// rules exist and that no base rule mentions a VM name or address.
func checkTable(t *testing.T, rules []nftRule, vmNames, vmIPs []string) {
	t.Helper()
	base := 0
	for _, r := range rules {
		switch {
		case r.Comment == "banger:base":
			base++
			for _, s := range append(append([]string{}, vmNames...), vmIPs...) {
				if s != "" && strings.Contains(r.Expr, s) {
					t.Errorf("base rule (chain %s, handle %d) references VM %q: %s", r.Chain, r.Handle, s, r.Expr)
				}
			}
		case strings.HasPrefix(r.Comment, "banger:vm="):
		default:
			t.Errorf("rule without a banger comment (chain %s, handle %d): %q %s", r.Chain, r.Handle, r.Comment, r.Expr)
		}
	}
	if base == 0 {
		t.Errorf("no banger:base rules in the table: %+v", rules)
	}
}

// guest runs a shell command in a VM and returns its result without
// failing on a non-zero exit.
func (e *Env) guest(name, cmd string) Result {
	e.t.Helper()
	return e.RunTimeout(3*time.Minute, "vm", "ssh", name, "--", cmd)
}

// waitSSH polls until a command runs in the VM, for VMs created --no-wait.
func (e *Env) waitSSH(name string, limit time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		r := e.RunTimeout(time.Minute, "vm", "ssh", name, "--", "true")
		if r.Code == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: no SSH after %s: %+v\ndaemon log:\n%s", name, limit, r, e.DaemonLog(40))
		}
		time.Sleep(2 * time.Second)
	}
}

// dig queries bangerd's DNS server on the gateway and returns dig's output.
func (e *Env) dig(args ...string) string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	full := append([]string{"+time=2", "+tries=2", "@" + e.Gateway}, args...)
	out, err := exec.CommandContext(ctx, "dig", full...).CombinedOutput()
	if err != nil {
		e.t.Fatalf("dig %s: %v\n%s", strings.Join(full, " "), err, out)
	}
	return string(out)
}

// digStatus returns the status and the header flags of a full dig answer.
func digStatus(out string) (status string, flags []string) {
	for _, line := range strings.Split(out, "\n") {
		if i := strings.Index(line, "status: "); i >= 0 {
			status = strings.TrimRight(strings.Fields(line[i+len("status: "):])[0], ",")
		}
		if i := strings.Index(line, ";; flags: "); i >= 0 {
			rest := line[i+len(";; flags: "):]
			if j := strings.IndexByte(rest, ';'); j >= 0 {
				rest = rest[:j]
			}
			flags = strings.Fields(rest)
		}
	}
	return status, flags
}

// waitFor polls cond every interval until it holds or limit passes.
func waitFor(limit, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
}

// withT returns a view of e that reports to t, for use inside a subtest
// (failing the parent from a subtest's goroutine is not allowed).
func (e *Env) withT(t testing.TB) *Env {
	c := *e
	c.t = t
	return &c
}
