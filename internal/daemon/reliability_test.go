package daemon

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open fds: %v", err)
	}
	return len(ents)
}

// settledGoroutines waits briefly for goroutines of finished work to exit
// and returns how many are left.
func settledGoroutines(base int) int {
	n := runtime.NumGoroutine()
	for i := 0; i < 50 && n > base; i++ {
		time.Sleep(10 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// TestReliabilityCreateDeleteCyclesLeakNothing (issue 8, check 4 with the
// fake VMM): 200 create/delete cycles, half with NAT, must leave the
// daemon's open fds, goroutines, per-VM bookkeeping, taps and firewall
// rules at their starting counts. Quick: it runs in CI.
func TestReliabilityCreateDeleteCyclesLeakNothing(t *testing.T) {
	td := newTestDaemon(t)
	ctx := context.Background()
	cycles := 200
	if testing.Short() {
		cycles = 50
	}
	counts := func() (fds, gor, taps, rules, locks, monitors int) {
		ports, _ := td.net.Ports(ctx, td.cfg.BridgeName)
		rs, _ := td.fw.List(ctx)
		td.locksMu.Lock()
		locks = len(td.locks)
		td.locksMu.Unlock()
		td.monitors.mu.Lock()
		monitors = len(td.monitors.running)
		td.monitors.mu.Unlock()
		return openFDs(t), settledGoroutines(0), len(ports), len(rs), locks, monitors
	}
	// One warm-up cycle opens what is opened once (SQLite connections, key).
	if _, err := td.create(t, "warm-up", true); err != nil {
		t.Fatal(err)
	}
	if err := td.deleteVM(ctx, "warm-up", true); err != nil {
		t.Fatal(err)
	}
	fds0, gor0, taps0, rules0, locks0, mon0 := counts()
	start := time.Now()
	for i := range cycles {
		name := fmt.Sprintf("cycle-%d", i)
		if _, err := td.create(t, name, i%2 == 0); err != nil {
			t.Fatalf("cycle %d: create: %v", i, err)
		}
		if err := td.deleteVM(ctx, name, true); err != nil {
			t.Fatalf("cycle %d: delete: %v", i, err)
		}
	}
	elapsed := time.Since(start)
	fds1, gor1, taps1, rules1, locks1, mon1 := counts()
	fmt.Printf("figure: fake_create_delete_cycles %d cycles\n", cycles)
	fmt.Printf("figure: fake_create_delete_cycle_time %.1f ms\n", float64(elapsed.Milliseconds())/float64(cycles))
	fmt.Printf("figure: fake_cycles_fd_growth %d fds\n", fds1-fds0)
	fmt.Printf("figure: fake_cycles_goroutine_growth %d goroutines\n", gor1-gor0)
	fmt.Printf("figure: fake_cycles_tap_growth %d taps\n", taps1-taps0)
	fmt.Printf("figure: fake_cycles_rule_growth %d rules\n", rules1-rules0)
	fmt.Printf("figure: fake_cycles_lock_entry_growth %d entries\n", locks1-locks0)
	// A few fds may be in flight (SQLite pool); growth with the cycle count
	// is a leak.
	if fds1-fds0 > 3 || gor1-gor0 > 2 || taps1 != taps0 || rules1 != rules0 || mon1 != mon0 || locks1 != locks0 {
		t.Fatalf("after %d cycles: fds %d→%d, goroutines %d→%d, taps %d→%d, rules %d→%d, monitors %d→%d, lock entries %d→%d",
			cycles, fds0, fds1, gor0, gor1, taps0, taps1, rules0, rules1, mon0, mon1, locks0, locks1)
	}
}

// TestConcurrentCreatesGetDistinctAddresses: creates of distinct names at
// the same moment all succeed with distinct addresses (they once raced for
// the same free address and all but one failed with "already exists").
func TestConcurrentCreatesGetDistinctAddresses(t *testing.T) {
	td := newTestDaemon(t)
	const n = 12
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := td.create(t, fmt.Sprintf("par-%d", i), false)
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	vms, _ := td.store.ListVMs(context.Background())
	ips := map[string]string{}
	for _, v := range vms {
		if other, dup := ips[v.IP]; dup {
			t.Errorf("%s and %s share %s", other, v.Name, v.IP)
		}
		ips[v.IP] = v.Name
	}
	if len(vms) != n {
		t.Fatalf("%d VMs after %d creates", len(vms), n)
	}
}

// TestConsoleLogIsCapped (check 10): a running VM whose guest printed more
// than the cap has its console log cut back within a monitor tick, keeping
// the newest output.
func TestConsoleLogIsCapped(t *testing.T) {
	td := newTestDaemon(t)
	vm, err := td.create(t, "chatty", false)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(vm.Files.ConsoleLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(strings.Repeat("x", 99) + "\n")
	for written := 0; written <= consoleLogCap+consoleLogKeep; written += len(line) {
		_, _ = f.Write(line)
	}
	_, _ = f.Write([]byte("newest line\n"))
	f.Close()
	// Wait for the monitor's next tick to cut the file (the cut itself
	// never shows an empty file: TestCapConsoleLogNeverEmptyAndInPlace).
	deadline := time.Now().Add(3 * time.Second)
	for {
		b, _ := os.ReadFile(vm.Files.ConsoleLog)
		capped := len(b) > 0 && len(b) <= consoleLogCap
		if capped && strings.HasPrefix(string(b), "[banger: console log passed 8 MiB") && strings.HasSuffix(string(b), "newest line\n") {
			break
		}
		if time.Now().After(deadline) {
			head, tail := b, b
			if len(b) > 60 {
				head, tail = b[:60], b[len(b)-20:]
			}
			t.Fatalf("console log is %d bytes (cap %d), starts %q and ends %q", len(b), consoleLogCap, head, tail)
		}
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Printf("figure: console_log_cap %d MiB\n", consoleLogCap>>20)
}
