package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// mirrorCheck fetches the Debian mirror's index once, bounded to 10 s.
const mirrorCheck = `curl -sS -o /dev/null -m 10 -w '%{http_code}' http://deb.debian.org/debian/`

// reachesMirror runs mirrorCheck in the VM: true when the mirror answered
// with an HTTP status (tries up to `tries` times, for a flaky link).
func reachesMirror(e *Env, name string, tries int) (bool, Result) {
	var r Result
	for i := 0; i < tries; i++ {
		r = e.guest(name, mirrorCheck)
		code := strings.TrimSpace(r.Stdout)
		if r.Code == 0 && (strings.HasPrefix(code, "2") || strings.HasPrefix(code, "3")) {
			return true, r
		}
	}
	return false, r
}

// TestNATAndVMNames boots two VMs, one with NAT and one without, and checks
// the <name>.vm records (guest and host side, real DNS queries to bangerd's
// server on the gateway), then the NAT: mirror reachable only with NAT,
// `vm set --nat/--no-nat` on a running VM, and the per-VM firewall rules
// through set, stop and delete, without touching the other VM's rules.
func TestNATAndVMNames(t *testing.T) {
	requireRoot(t)
	if _, err := exec.LookPath("dig"); err != nil {
		t.Skip("dig not installed (apt-get install dnsutils)")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("nft not installed (apt-get install nftables)")
	}
	e := newEnv(t, "")
	const natVM, plainVM = "nat-heron", "plain-wren"
	small := []string{"--memory", "384", "--vcpu", "1", "--disk-size", "1G"}

	// Boot both at once: the first returns while booting, the second waits.
	start := time.Now()
	e.MustRun(append([]string{"vm", "create", "--name", natVM, "--nat", "--no-wait"}, small...)...)
	e.MustRun(append([]string{"vm", "create", "--name", plainVM}, small...)...)
	e.waitSSH(natVM, 4*time.Minute)
	t.Logf("two VMs up in %s", time.Since(start).Round(time.Second))

	var a, b struct {
		vmJSON
		NAT bool `json:"nat"`
	}
	e.JSON(&a, "vm", "show", natVM)
	e.JSON(&b, "vm", "show", plainVM)
	if !a.NAT || b.NAT || a.IP == "" || b.IP == "" || a.IP == b.IP {
		t.Fatalf("after create: %s nat=%v ip=%s, %s nat=%v ip=%s", natVM, a.NAT, a.IP, plainVM, b.NAT, b.IP)
	}
	names := []string{natVM, plainVM}
	ips := []string{a.IP, b.IP}

	t.Run("VMNames", func(t *testing.T) {
		e := e.withT(t)
		start := time.Now()
		defer func() { t.Logf("VMNames took %s", time.Since(start).Round(time.Second)) }()
		// Guest to guest, both directions, through the guests' resolver.
		for _, p := range []struct{ from, to, ip string }{{natVM, plainVM, b.IP}, {plainVM, natVM, a.IP}} {
			r := e.guest(p.from, "getent hosts "+p.to+".vm")
			if f := strings.Fields(r.Stdout); r.Code != 0 || len(f) < 2 || f[0] != p.ip || f[1] != p.to+".vm" {
				t.Errorf("in %s: getent hosts %s.vm = %+v, want %s", p.from, p.to, r, p.ip)
			}
			if r := e.guest(p.from, "ping -c1 -W3 "+p.to+".vm"); r.Code != 0 {
				t.Errorf("in %s: ping %s.vm: %+v", p.from, p.to, r)
			}
			r = e.guest(p.from, "timeout 5 bash -c 'exec 3<>/dev/tcp/"+p.to+".vm/22; head -c 8 <&3'")
			if r.Code != 0 || r.Stdout != "SSH-2.0-" {
				t.Errorf("in %s: connect %s.vm:22: %+v", p.from, p.to, r)
			}
		}

		// Host: real queries to the built-in server on the gateway.
		for _, v := range []struct{ name, ip string }{{natVM, a.IP}, {plainVM, b.IP}} {
			if got := strings.TrimSpace(e.dig("+short", v.name+".vm")); got != v.ip {
				t.Errorf("dig +short %s.vm = %q, want %s", v.name, got, v.ip)
			}
			if got := strings.TrimSpace(e.dig("+short", "-x", v.ip)); got != v.name+".vm." {
				t.Errorf("dig -x %s = %q, want %s.vm.", v.ip, got, v.name)
			}
			out := e.dig(v.name + ".vm")
			if st, flags := digStatus(out); st != "NOERROR" || !contains(flags, "aa") {
				t.Errorf("dig %s.vm: status %s flags %v, want NOERROR with aa:\n%s", v.name, st, flags, out)
			}
		}
		if got := strings.TrimSpace(e.dig("+short", "no-such-vm.vm")); got != "" {
			t.Errorf("dig +short no-such-vm.vm = %q, want nothing", got)
		}
		out := e.dig("no-such-vm.vm")
		if st, _ := digStatus(out); st != "NXDOMAIN" {
			t.Errorf("dig no-such-vm.vm: status %q, want NXDOMAIN:\n%s", st, out)
		}
		out = e.dig("deb.debian.org")
		if st, flags := digStatus(out); st == "" || contains(flags, "aa") {
			t.Errorf("dig deb.debian.org: status %q flags %v; bangerd must not answer authoritatively outside .vm:\n%s", st, flags, out)
		}

		// Stop the plain VM: its name goes, the NAT VM's rules stay as they were.
		rulesA := rulesOf(e.nftRules(), natVM)
		if len(rulesA) == 0 {
			t.Fatalf("no banger:vm=%s rules in table %s", natVM, e.table())
		}
		e.MustRun("vm", "stop", plainVM)
		if !waitFor(5*time.Second, 200*time.Millisecond, func() bool {
			st, _ := digStatus(e.dig(plainVM + ".vm"))
			return st == "NXDOMAIN"
		}) {
			t.Errorf("%s.vm still resolves after vm stop:\n%s", plainVM, e.dig(plainVM+".vm"))
		}
		if got := strings.TrimSpace(e.dig("+short", natVM+".vm")); got != a.IP {
			t.Errorf("after stopping %s, dig %s.vm = %q, want %s", plainVM, natVM, got, a.IP)
		}
		if r := e.guest(natVM, "getent hosts "+plainVM+".vm"); r.Code == 0 {
			t.Errorf("in %s: %s.vm still resolves after stop: %q", natVM, plainVM, r.Stdout)
		}
		if now := rulesOf(e.nftRules(), natVM); !sameRules(now, rulesA) {
			t.Errorf("stopping %s changed %s's rules:\nbefore %+v\nafter  %+v", plainVM, natVM, rulesA, now)
		}

		e.MustRun("vm", "start", plainVM)
		e.JSON(&b, "vm", "show", plainVM)
		ips[1] = b.IP
		if !waitFor(5*time.Second, 200*time.Millisecond, func() bool {
			return strings.TrimSpace(e.dig("+short", plainVM+".vm")) == b.IP
		}) {
			t.Errorf("%s.vm does not resolve to %s after vm start:\n%s", plainVM, b.IP, e.dig(plainVM+".vm"))
		}
		if r := e.guest(natVM, "getent hosts "+plainVM+".vm"); r.Code != 0 || !strings.HasPrefix(r.Stdout, b.IP+" ") {
			t.Errorf("in %s after start: getent hosts %s.vm = %+v, want %s", natVM, plainVM, r, b.IP)
		}
		if now := rulesOf(e.nftRules(), natVM); !sameRules(now, rulesA) {
			t.Errorf("starting %s changed %s's rules:\nbefore %+v\nafter  %+v", plainVM, natVM, rulesA, now)
		}
		if len(rulesOf(e.nftRules(), plainVM)) != 0 {
			t.Errorf("%s has no NAT but has rules after start", plainVM)
		}
		checkTable(t, e.nftRules(), names, ips)
	})

	t.Run("NATReachesMirror", func(t *testing.T) {
		e := e.withT(t)
		start := time.Now()
		defer func() { t.Logf("NATReachesMirror took %s", time.Since(start).Round(time.Second)) }()
		if e.show(plainVM).State != "running" {
			e.MustRun("vm", "start", plainVM)
		}
		checkTable(t, e.nftRules(), names, ips)

		// apt-get update: succeeds with NAT, fails without.
		r := e.guest(natVM, "timeout 150 apt-get update -o Acquire::Retries=1 -o Acquire::http::Timeout=20 2>&1")
		if r.Code != 0 || strings.Contains(r.Stdout, "Err:") || strings.Contains(r.Stdout, "W: ") || strings.Contains(r.Stdout, "E: ") {
			t.Fatalf("apt-get update in %s (NAT): %+v", natVM, r)
		}
		r = e.guest(plainVM, "timeout 30 apt-get update -o Acquire::Retries=0 -o Acquire::http::Timeout=8 2>&1")
		if r.Code == 0 && !strings.Contains(r.Stdout, "Err:") && !strings.Contains(r.Stdout, "Failed to fetch") {
			t.Fatalf("apt-get update in %s (no NAT) reached the mirror: %+v", plainVM, r)
		}
		if ok, r := reachesMirror(e, plainVM, 1); ok {
			t.Fatalf("%s (no NAT) reached the mirror: %+v", plainVM, r)
		}
		if got := rulesOf(e.nftRules(), plainVM); len(got) != 0 {
			t.Fatalf("%s has no NAT but has rules: %+v", plainVM, got)
		}

		// NAT switched on for the running plain VM: accepted and effective.
		e.MustRun("vm", "set", plainVM, "--nat")
		if ok, r := reachesMirror(e, plainVM, 3); !ok {
			t.Fatalf("%s after vm set --nat does not reach the mirror: %+v", plainVM, r)
		}
		rulesB := rulesOf(e.nftRules(), plainVM)
		if len(rulesB) == 0 {
			t.Fatalf("%s after vm set --nat has no rules", plainVM)
		}
		keepB := func(step string) {
			t.Helper()
			rules := e.nftRules()
			if now := rulesOf(rules, plainVM); !sameRules(now, rulesB) {
				t.Errorf("%s changed %s's rules:\nbefore %+v\nafter  %+v", step, plainVM, rulesB, now)
			}
			checkTable(t, rules, names, ips)
		}

		// NAT off and on again on the running NAT VM.
		e.MustRun("vm", "set", natVM, "--no-nat")
		if got := rulesOf(e.nftRules(), natVM); len(got) != 0 {
			t.Errorf("%s after --no-nat still has rules: %+v", natVM, got)
		}
		if ok, r := reachesMirror(e, natVM, 1); ok {
			t.Errorf("%s after --no-nat still reaches the mirror: %+v", natVM, r)
		}
		keepB("vm set " + natVM + " --no-nat")
		e.MustRun("vm", "set", natVM, "--nat")
		if ok, r := reachesMirror(e, natVM, 3); !ok {
			t.Errorf("%s after --nat does not reach the mirror: %+v", natVM, r)
		}
		if got := rulesOf(e.nftRules(), natVM); len(got) == 0 {
			t.Errorf("%s after --nat has no rules", natVM)
		}
		keepB("vm set " + natVM + " --nat")

		// Stop, then delete: no rule of the NAT VM remains either time.
		e.MustRun("vm", "stop", natVM)
		if got := rulesOf(e.nftRules(), natVM); len(got) != 0 {
			t.Errorf("%s after vm stop still has rules: %+v", natVM, got)
		}
		keepB("vm stop " + natVM)
		e.MustRun("vm", "delete", natVM)
		if got := rulesOf(e.nftRules(), natVM); len(got) != 0 {
			t.Errorf("%s after vm delete still has rules: %+v", natVM, got)
		}
		keepB("vm delete " + natVM)
		if ok, r := reachesMirror(e, plainVM, 3); !ok {
			t.Errorf("%s lost the mirror after %s was deleted: %+v", plainVM, natVM, r)
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
