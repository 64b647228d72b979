package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/store"
)

// TestReliabilityConcurrentCLIsStartOneDaemon (check 5): 30 CLIs at once
// with no daemon running, 15 of them creating VMs with distinct names,
// start exactly one daemon, all succeed, and no two VMs share an IP, MAC,
// tap or name. It uses fakebangerd: 15 real guests booting at once under
// TCG on 2 shared cores would measure the machine, not the race; the
// auto-start, lock, socket and address allocation are the real code.
// Quick (CI).
func TestReliabilityConcurrentCLIsStartOneDaemon(t *testing.T) {
	e := newFakeEnv(t)
	const clis = 30
	res := make([]Result, clis)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range clis {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := []string{"daemon", "status"}
			switch {
			case i%2 == 0:
				args = []string{"vm", "create", "--name", fmt.Sprintf("race-%02d", i), "--no-wait", "--disk-size", "1G"}
			case i%4 == 1:
				args = []string{"vm", "list"}
			}
			res[i] = e.Run(args...)
		}()
	}
	wg.Wait()
	figure(t, "concurrent_clis_wall_time", time.Since(start).Milliseconds(), "ms")
	for i, r := range res {
		if r.Code != 0 {
			t.Errorf("CLI %d: exit %d: %s", i, r.Code, r.Stderr)
		}
	}
	time.Sleep(200 * time.Millisecond) // losers of the start race exit
	pids := e.daemonPIDs()
	figure(t, "concurrent_clis_daemons", len(pids), "daemons")
	if len(pids) != 1 {
		t.Fatalf("%d daemons serve %s, want exactly 1: %v", len(pids), e.Socket, pids)
	}
	if got := e.DaemonPID(); got != pids[0] {
		t.Fatalf("status reports pid %d, the live daemon is %d", got, pids[0])
	}
	vms := e.listVMs()
	if len(vms) != clis/2 {
		t.Fatalf("%d VMs after %d creates", len(vms), clis/2)
	}
	seen := map[string]string{}
	for _, v := range vms {
		for kind, val := range map[string]string{"name": v.Name, "ip": v.IP, "mac": v.MAC, "tap": v.Tap} {
			if val == "" {
				t.Errorf("%s has no %s", v.Name, kind)
			}
			if other, dup := seen[kind+"="+val]; dup {
				t.Errorf("%s and %s share %s %s", other, v.Name, kind, val)
			}
			seen[kind+"="+val] = v.Name
		}
	}
}

// mutationLog is what the CLI reported about one VM name in check 7.
type mutationLog struct {
	known  bool // the last mutation was reported done (or state observed)
	exists bool
	nat    bool
	last   string
}

// TestReliabilityMutationsSurviveSIGKILL (check 7): three workers run 500
// mutations (create, delete, set --nat, set --no-nat) through the CLI
// while bangerd is SIGKILLed every 0.15-1.05 s; the next CLI restarts it.
// On a fast machine the workers go on past 500 until the daemon has been
// killed at least 5 times, so the check never depends on the host's speed.
// Every mutation the CLI reported done must be in the database, read
// directly after a final SIGKILL and again through `vm list` after a
// restart. Uses fakebangerd (creates need no guest). Quick (CI): ~40 s.
func TestReliabilityMutationsSurviveSIGKILL(t *testing.T) {
	e := newFakeEnv(t)
	total := 500
	if testing.Short() {
		total = 100
	}
	minKills := int64(total / 100)
	const workers, namesPer = 3, 4
	var mutations, done, kills atomic.Int64
	logs := make([]map[string]*mutationLog, workers)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() { // the killer
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(150+rand.IntN(900)) * time.Millisecond):
				kills.Add(int64(e.killDaemon()))
			}
		}
	}()
	for w := range workers {
		logs[w] = map[string]*mutationLog{}
		for n := range namesPer {
			logs[w][fmt.Sprintf("mut-%d-%d", w, n)] = &mutationLog{known: true}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for mutations.Add(1) <= int64(total) || kills.Load() < minKills {
				name := fmt.Sprintf("mut-%d-%d", w, rand.IntN(namesPer))
				l := logs[w][name]
				if !l.known && !e.observe(name, l) {
					continue // daemon down; not a mutation
				}
				var args []string
				next := *l
				switch {
				case !l.exists:
					next.exists, next.nat = true, rand.IntN(2) == 0
					args = []string{"vm", "create", "--name", name, "--no-wait", "--disk-size", "1G"}
					if next.nat {
						args = append(args, "--nat")
					}
				case rand.IntN(4) == 0:
					next.exists, next.nat = false, false
					args = []string{"vm", "delete", "--force", name}
				default:
					next.nat = !l.nat
					args = []string{"vm", "set", name, "--nat"}
					if !next.nat {
						args[3] = "--no-nat"
					}
				}
				next.last = strings.Join(args, " ")
				if r := e.RunTimeout(time.Minute, args...); r.Code == 0 {
					next.known = true
					*l = next
					done.Add(1)
				} else {
					l.known = false // may or may not have happened
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	kills.Add(int64(e.killDaemon()))
	// Each worker's last Add overshoots by one.
	ran := mutations.Load() - workers
	figure(t, "sigkill_mutations", ran, "mutations")
	figure(t, "sigkill_mutations_reported_done", done.Load(), "mutations")
	figure(t, "sigkill_daemon_kills", kills.Load(), "kills")
	if kills.Load() < minKills || done.Load() < ran/2 {
		t.Fatalf("test did not exercise enough: %d kills, %d of %d done", kills.Load(), done.Load(), ran)
	}

	// Straight from the database, with no daemon to reconcile anything.
	st, err := store.Open(context.Background(), e.dbPath())
	if err != nil {
		t.Fatal(err)
	}
	rows, err := st.ListVMs(context.Background())
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	inDB := map[string]apiVM{}
	for _, v := range rows {
		inDB[v.Name] = apiVM{Name: v.Name, NAT: v.NAT, State: string(v.State)}
	}
	lost := checkMutations(t, "database", logs, inDB)
	if res := integrityCheck(t, e.dbPath()); res != "ok" {
		t.Errorf("integrity_check after SIGKILLs: %s", res)
	}
	// And as the restarted daemon reports it.
	listed := map[string]apiVM{}
	for _, v := range e.listVMs() {
		listed[v.Name] = v
	}
	lost += checkMutations(t, "vm list after restart", logs, listed)
	figure(t, "sigkill_mutations_lost", lost, "mutations")
}

// observe learns the state of name after a mutation with an unknown
// outcome; false when the daemon could not answer.
func (e *Env) observe(name string, l *mutationLog) bool {
	r := e.RunTimeout(time.Minute, "--output", "json", "vm", "show", name)
	switch {
	case r.Code == 0:
		l.known, l.exists, l.nat = true, true, strings.Contains(r.Stdout, `"nat": true`)
	case strings.Contains(r.Stderr, "no VM named"):
		l.known, l.exists, l.nat = true, false, false
	default:
		return false
	}
	l.last = "observed"
	return true
}

// checkMutations compares what the CLI reported with got and returns how
// many reported mutations are missing.
func checkMutations(t *testing.T, where string, logs []map[string]*mutationLog, got map[string]apiVM) int {
	t.Helper()
	lost := 0
	for _, m := range logs {
		for name, l := range m {
			if !l.known {
				continue
			}
			v, ok := got[name]
			if ok != l.exists || (ok && v.NAT != l.nat) {
				lost++
				t.Errorf("%s: %s: exists=%v nat=%v, but the CLI reported done: %q (exists=%v nat=%v)",
					where, name, ok, v.NAT, l.last, l.exists, l.nat)
			}
		}
	}
	return lost
}
