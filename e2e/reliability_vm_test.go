package e2e

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// The long reliability checks: real VMs (QEMU, TCG here), real taps,
// nftables and DNS. Each runs only with BANGER_RELIABILITY=1 and keeps the
// VM count as small as the check allows (the machine has 2 shared cores).

const smallVM = "256" // MiB for guests the checks boot

// TestReliabilitySIGKILLDuringCreates (check 1): 10 rounds of 3 concurrent
// creates (one with NAT) with bangerd SIGKILLed at a random moment; after
// each round every VMM process, tap, NAT rule, DNS record, VM directory and
// database row is one `vm list` accounts for, and deleting everything
// leaves the host as it was.
func TestReliabilitySIGKILLDuringCreates(t *testing.T) {
	longReliability(t)
	e := newEnv(t, "")
	e.MustRun("daemon", "status")
	var tried []string
	kills := 0
	start := time.Now()
	for round := range 10 {
		var wg sync.WaitGroup
		for i := range 3 {
			name := fmt.Sprintf("kc-%d-%d", round, i)
			tried = append(tried, name)
			args := []string{"vm", "create", "--name", name, "--no-wait", "--memory", smallVM}
			if i == 0 {
				args = append(args, "--nat")
			}
			wg.Add(1)
			go func() { defer wg.Done(); e.RunTimeout(3*time.Minute, args...) }()
		}
		time.Sleep(time.Duration(rand.IntN(4000)) * time.Millisecond)
		kills += e.killDaemon()
		wg.Wait()
		e.accountedFor(tried) // restarts the daemon through vm list
		if t.Failed() {
			t.Fatalf("round %d left unaccounted host state", round)
		}
		e.deleteAllClean(tried)
	}
	figure(t, "kill_during_create_rounds", 10, "rounds")
	figure(t, "kill_during_create_kills", kills, "kills")
	figure(t, "kill_during_create_time", int(time.Since(start).Seconds()), "s")
}

// TestReliabilityRestartsKeepVMs (check 2): 20 daemon restarts,
// alternately graceful and SIGKILL, with 3 running VMs (one with NAT):
// VMM pids and guest boot ids unchanged, `nft -j list table` identical,
// every VM reachable by SSH and by name.
func TestReliabilityRestartsKeepVMs(t *testing.T) {
	longReliability(t)
	e := newEnv(t, "")
	names := []string{"rs-a", "rs-b", "rs-c"}
	for i, n := range names {
		args := []string{"vm", "create", "--name", n, "--memory", smallVM}
		if i == 0 {
			args = append(args, "--nat")
		}
		e.MustRun(args...)
	}
	pids := map[string]int{}
	boot := map[string]string{}
	for _, v := range e.listVMs() {
		pids[v.Name] = v.PID
		boot[v.Name] = strings.TrimSpace(e.ssh(v.Name, "cat", "/proc/sys/kernel/random/boot_id"))
	}
	rules, err := e.nftJSON()
	if err != nil {
		t.Fatalf("nft -j list table: %v", err)
	}
	var worst time.Duration
	for i := range 20 {
		if i%2 == 0 {
			e.MustRun("daemon", "stop")
		} else {
			e.killDaemon()
		}
		t0 := time.Now()
		vms := e.listVMs() // starts the daemon, which re-adopts
		worst = max(worst, time.Since(t0))
		for _, v := range vms {
			if v.State != "running" || v.PID != pids[v.Name] {
				t.Fatalf("restart %d: %s is %s with pid %d, was running with %d", i, v.Name, v.State, v.PID, pids[v.Name])
			}
		}
		if got, _ := e.nftJSON(); got != rules {
			t.Fatalf("restart %d: nft ruleset changed:\nbefore %s\nafter  %s", i, rules, got)
		}
		for _, n := range names {
			if id := strings.TrimSpace(e.ssh(n, "cat", "/proc/sys/kernel/random/boot_id")); id != boot[n] {
				t.Fatalf("restart %d: %s boot id %s, was %s", i, n, id, boot[n])
			}
			if !e.dnsAnswers(n) {
				t.Fatalf("restart %d: %s.vm does not resolve", i, n)
			}
		}
	}
	figure(t, "daemon_restarts_with_running_vms", 20, "restarts")
	figure(t, "daemon_restart_to_answer_max", worst.Milliseconds(), "ms")
}

// damage is one kind of out-of-band damage for check 3.
type damage struct {
	name string
	// do damages the running VM v.
	do func(e *Env, v apiVM)
	// dead is true when the VMM is gone afterwards (vm list must say
	// stopped within 1 s).
	dead bool
	// lost is true when `vm start` cannot repair it and must say what is
	// missing.
	lost bool
}

var damages = []damage{
	{name: "kill-vmm", dead: true, do: func(e *Env, v apiVM) { runOK(e, "kill", "-KILL", fmt.Sprint(v.PID)) }},
	{name: "delete-tap", do: func(e *Env, v apiVM) { runOK(e, "ip", "link", "del", v.Tap) }},
	{name: "delete-nft-table", do: func(e *Env, v apiVM) { runOK(e, "nft", "delete", "table", "inet", "banger-"+e.Bridge) }},
	{name: "remove-overlay", lost: true, do: func(e *Env, v apiVM) { runOK(e, "rm", "-f", v.Files.Overlay) }},
}

// runOK runs a host command and fails the test if it fails.
func runOK(e *Env, args ...string) {
	e.t.Helper()
	if out, err := execCommand(args...); err != nil {
		e.t.Fatalf("%s: %v %s", strings.Join(args, " "), err, out)
	}
}

// TestReliabilityOutOfBandDamage (check 3): kill the VMM, delete the tap,
// delete the nftables table, remove the overlay file, each while the
// daemon runs and while it is stopped: `vm list` tells the truth within
// 1 s, `vm start` (after a stop, for damage that leaves the VMM running)
// repairs what it can or names what is missing, and `vm delete` succeeds
// and leaves nothing.
func TestReliabilityOutOfBandDamage(t *testing.T) {
	longReliability(t)
	e := newEnv(t, "")
	var tried []string
	var slowest time.Duration
	for _, dm := range damages {
		name := "dmg-" + dm.name
		tried = append(tried, name)
		e.MustRun("vm", "create", "--name", name, "--nat", "--memory", smallVM)
		for _, daemonDown := range []bool{false, true} {
			when := map[bool]string{false: "daemon running", true: "daemon stopped"}[daemonDown]
			v := e.vm(name)
			if v.State != "running" {
				e.MustRun("vm", "start", name)
				v = e.vm(name)
			}
			if daemonDown {
				e.MustRun("daemon", "stop")
			}
			dm.do(e, v)
			if daemonDown {
				e.MustRun("daemon", "status")
			}
			want := "running"
			if dm.dead {
				want = "stopped"
			}
			t0 := time.Now()
			for e.vm(name).State != want && time.Since(t0) < 5*time.Second {
				time.Sleep(50 * time.Millisecond)
			}
			took := time.Since(t0)
			slowest = max(slowest, took)
			if got := e.vm(name).State; got != want || took > time.Second {
				t.Errorf("%s, %s: vm list says %s after %s; want %s within 1s", dm.name, when, got, took, want)
			}
			if !dm.dead {
				e.MustRun("vm", "stop", name)
			}
			r := e.RunTimeout(5*time.Minute, "vm", "start", name)
			switch {
			case dm.lost && (r.Code == 0 || !strings.Contains(r.Stderr, v.Files.Overlay)):
				t.Errorf("%s, %s: vm start: exit %d %q; want a refusal naming %s", dm.name, when, r.Code, r.Stderr, v.Files.Overlay)
			case dm.lost:
			case r.Code != 0:
				t.Errorf("%s, %s: vm start did not repair: %s", dm.name, when, r.Stderr)
			default:
				e.ssh(name, "true")
				if !e.dnsAnswers(name) || !e.snapshot().Rules[name] {
					t.Errorf("%s, %s: after vm start the name or NAT rule is missing", dm.name, when)
				}
			}
			if dm.lost {
				break // nothing left to damage
			}
		}
		if r := e.RunTimeout(2*time.Minute, "vm", "delete", "--force", name); r.Code != 0 {
			t.Errorf("%s: vm delete: %s", dm.name, r.Stderr)
		}
		e.deleteAllClean(tried)
	}
	figure(t, "damage_truth_latency_max", slowest.Milliseconds(), "ms")
}

// vm is one VM from `vm list` (the list, not show, is what users watch).
func (e *Env) vm(name string) apiVM {
	e.t.Helper()
	for _, v := range e.listVMs() {
		if v.Name == name {
			return v
		}
	}
	e.t.Fatalf("%s not in vm list", name)
	return apiVM{}
}

// TestReliabilityRealCyclesLeakNothing (check 4 with real VMs): 20
// create/delete cycles (--no-wait, half with NAT) bring bangerd's open fds
// and goroutines, the taps and the firewall rules back to their starting
// counts.
func TestReliabilityRealCyclesLeakNothing(t *testing.T) {
	longReliability(t)
	e := newEnv(t, "")
	// One warm-up cycle creates the bridge, table and DNS listener.
	e.MustRun("vm", "create", "--name", "warm", "--no-wait", "--memory", smallVM, "--nat")
	e.MustRun("vm", "delete", "--force", "warm")
	fds0, gor0, s0 := e.bangerdFDs(), e.goroutines(), e.snapshot()
	start := time.Now()
	for i := range 20 {
		name := fmt.Sprintf("cyc-%d", i)
		args := []string{"vm", "create", "--name", name, "--no-wait", "--memory", smallVM}
		if i%2 == 0 {
			args = append(args, "--nat")
		}
		e.MustRun(args...)
		e.MustRun("vm", "delete", "--force", name)
	}
	time.Sleep(time.Second) // monitors and connections wind down
	fds1, gor1, s1 := e.bangerdFDs(), e.goroutines(), e.snapshot()
	figure(t, "real_cycles", 20, "cycles")
	figure(t, "real_cycle_time", time.Since(start).Milliseconds()/20, "ms")
	figure(t, "real_cycles_fd_growth", fds1-fds0, "fds")
	figure(t, "real_cycles_goroutine_growth", gor1-gor0, "goroutines")
	figure(t, "real_cycles_tap_growth", len(s1.Taps)-len(s0.Taps), "taps")
	figure(t, "real_cycles_rule_growth", len(s1.Rules)-len(s0.Rules), "rules")
	if fds1-fds0 > 3 || gor1-gor0 > 3 || len(s1.Taps) != len(s0.Taps) || len(s1.Rules) != len(s0.Rules) || len(s1.VMMs) != 0 {
		t.Fatalf("leak after 20 cycles: fds %d→%d goroutines %d→%d taps %v→%v rules %v→%v VMMs %v",
			fds0, fds1, gor0, gor1, s0.Taps, s1.Taps, s0.Rules, s1.Rules, s1.VMMs)
	}
}
