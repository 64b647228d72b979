package dns

import (
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/bangerdev/banger/internal/detach"
)

// buildMapdns builds the test mapdns program (./mapdnstest) as "mapdns".
func buildMapdns(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs a mapdns process")
	}
	bin := filepath.Join(t.TempDir(), "mapdns")
	out, err := exec.Command("go", "build", "-o", bin, "./mapdnstest").CombinedOutput()
	if err != nil {
		t.Fatalf("build mapdnstest: %v\n%s", err, out)
	}
	return bin
}

// freeUDP returns a loopback UDP address nobody listens on right now.
func freeUDP(t *testing.T) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return netip.MustParseAddrPort(pc.LocalAddr().String())
}

// lookupA asks addr for name's A record: "" when the name does not exist.
func lookupA(addr netip.AddrPort, name string) (string, error) {
	q := new(mdns.Msg)
	q.SetQuestion(name, mdns.TypeA)
	r, _, err := (&mdns.Client{Timeout: time.Second}).Exchange(q, addr.String())
	if err != nil {
		return "", err
	}
	if r.Rcode != mdns.RcodeSuccess || len(r.Answer) == 0 {
		return "", nil
	}
	return r.Answer[0].(*mdns.A).A.String(), nil
}

// waitA polls until name resolves to want ("" = does not exist): the reload
// after SIGHUP is asynchronous.
func waitA(t *testing.T, addr netip.AddrPort, name, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := lookupA(addr, name)
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s resolves to %q (%v), want %q", name, got, err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMapdnsStartPublishReloadStop(t *testing.T) {
	bin := buildMapdns(t)
	file := filepath.Join(t.TempDir(), "mapdns", "records.json")
	m := NewMapdns(file, bin, "")
	m.Listen = freeUDP(t)
	if m.Name() != "mapdns" || m.PidFile != filepath.Join(filepath.Dir(file), "mapdns.pid") {
		t.Fatalf("name %q, pid file %q", m.Name(), m.PidFile)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	pid := m.Running()
	if b, _ := os.ReadFile(m.PidFile); pid == 0 || strings.TrimSpace(string(b)) != strconv.Itoa(pid) {
		t.Fatalf("running pid %d, pid file %q", pid, b)
	}
	if b, _ := os.ReadFile(file); strings.TrimSpace(string(b)) != "{}" {
		t.Fatalf("start did not create an empty data file: %q", b)
	}

	if err := m.Publish("Calm-Otter", netip.MustParseAddr("172.30.0.2")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(file)
	if want := "{\n  \"calm-otter.vm.\": {\n    \"A\": \"172.30.0.2\"\n  }\n}\n"; string(b) != want {
		t.Fatalf("data file = %q", b)
	}
	waitA(t, m.Listen, "calm-otter.vm.", "172.30.0.2")
	if err := m.Publish("calm-otter", netip.MustParseAddr("172.30.0.9")); err != nil {
		t.Fatal(err)
	}
	waitA(t, m.Listen, "calm-otter.vm.", "172.30.0.9")
	if err := m.Unpublish("calm-otter"); err != nil {
		t.Fatal(err)
	}
	waitA(t, m.Listen, "calm-otter.vm.", "")
	if err := m.Publish("a.b", netip.MustParseAddr("172.30.0.2")); err == nil {
		t.Fatal("dotted name accepted")
	}

	if err := m.Start(context.Background()); err != nil || m.Running() != pid {
		t.Fatalf("second start: %v, pid %d want %d", err, m.Running(), pid)
	}
	st, _ := detach.ProcStartTime(pid)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if detach.ProcessAlive(pid, st) {
		t.Fatal("mapdns still runs after close")
	}
	if _, err := os.Stat(m.PidFile); !os.IsNotExist(err) {
		t.Fatalf("pid file left behind: %v", err)
	}
	// Records still go to the file without a running mapdns.
	if err := m.Publish("web", netip.MustParseAddr("172.30.0.5")); err != nil {
		t.Fatal(err)
	}
}

func TestMapdnsAdoptsRunningAndLeavesIt(t *testing.T) {
	bin := buildMapdns(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "records.json")
	pidFile := filepath.Join(dir, "mapdns.pid")
	if err := os.WriteFile(file, []byte(`{"old.vm.": {"A": "172.30.0.3"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeUDP(t)
	own := exec.Command(bin, "--data-file", file, "--listen", addr.String(), "--pid-file", pidFile)
	if err := own.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = own.Process.Kill(); _ = own.Wait() })
	waitA(t, addr, "old.vm.", "172.30.0.3")

	m := NewMapdns(file, bin, pidFile)
	m.Listen = addr
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m.Running() != own.Process.Pid {
		t.Fatalf("adopted pid %d, want %d", m.Running(), own.Process.Pid)
	}
	if err := m.Publish("web", netip.MustParseAddr("172.30.0.5")); err != nil {
		t.Fatal(err)
	}
	waitA(t, addr, "web.vm.", "172.30.0.5")
	waitA(t, addr, "old.vm.", "172.30.0.3")
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := own.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("close stopped a mapdns banger did not start: %v", err)
	}
	waitA(t, addr, "web.vm.", "172.30.0.5") // still served: banger did not start it
}

func TestMapdnsStalePidFileIsNotSignalled(t *testing.T) {
	bin := buildMapdns(t)
	dir := t.TempDir()
	m := NewMapdns(filepath.Join(dir, "records.json"), bin, "")
	m.Listen = freeUDP(t)
	// The pid file names this test process, which is not mapdns: it must
	// neither be adopted nor receive SIGHUP (which would end the test).
	if err := os.WriteFile(m.PidFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Publish("web", netip.MustParseAddr("172.30.0.5")); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if m.Running() == os.Getpid() || m.Running() == 0 {
		t.Fatalf("running pid %d", m.Running())
	}
	waitA(t, m.Listen, "web.vm.", "172.30.0.5")
}

func TestMapdnsStartFailures(t *testing.T) {
	dir := t.TempDir()
	m := NewMapdns(filepath.Join(dir, "records.json"), filepath.Join(dir, "no-such-mapdns"), "")
	if err := m.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("missing program: %v", err)
	}
	if err := m.Check(); err == nil {
		t.Fatal("check passed for a missing program")
	}
	bad := filepath.Join(dir, "mapdns")
	if err := os.WriteFile(bad, []byte("#!/bin/sh\necho 'cannot bind: boom' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	m.Bin = bad
	m.Listen = freeUDP(t)
	err := m.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "boom") || !strings.Contains(err.Error(), "exited") {
		t.Fatalf("failing program: %v", err)
	}
	if m.Running() != 0 {
		t.Fatal("a failed start left a process")
	}
}
