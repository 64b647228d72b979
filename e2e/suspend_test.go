package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// savedVM is the part of `vm show --output json` about a saved state.
type savedVM struct {
	vmJSON
	SavedState *struct {
		Size       int64  `json:"size"`
		VMMVersion string `json:"vmm_version"`
	} `json:"saved_state"`
}

// counterLoop starts, detached from the SSH session, a loop that counts in
// /dev/shm/counter five times a second and records its pid.
const counterLoop = `setsid sh -c 'echo $$ > /dev/shm/counter.pid; i=0; while :; do i=$((i+1)); echo $i > /dev/shm/counter; sleep 0.2; done' </dev/null >/dev/null 2>&1 &`

func (e *Env) counter(name string) int {
	e.t.Helper()
	out := strings.TrimSpace(e.ssh(name, "cat /dev/shm/counter"))
	n, err := strconv.Atoi(out)
	if err != nil {
		e.t.Fatalf("counter %q: %v", out, err)
	}
	return n
}

// guestClockOffset is the guest's wall clock minus the host's, in seconds,
// bounded by the SSH round trip (it returns the worse end).
func (e *Env) guestClockOffset(name string) float64 {
	e.t.Helper()
	before := time.Now()
	out := strings.TrimSpace(e.ssh(name, "date +%s.%N"))
	after := time.Now()
	g, err := strconv.ParseFloat(out, 64)
	if err != nil {
		e.t.Fatalf("guest date %q: %v", out, err)
	}
	lo, hi := float64(before.UnixNano())/1e9, float64(after.UnixNano())/1e9
	switch {
	case g < lo:
		return g - lo
	case g > hi:
		return g - hi
	}
	return 0
}

// TestSuspendResumeAcrossDaemonKill is the scenario: a counter loop
// and a /dev/shm file survive suspend, a SIGKILLed daemon and resume; the
// VMM process is gone while suspended; the guest clock is corrected; SSH
// by name, DNS and NAT work afterwards.
func TestSuspendResumeAcrossDaemonKill(t *testing.T) {
	requireRoot(t)
	e := newEnv(t, "")
	name := "sleeper"
	e.MustRun("vm", "create", "--name", name, "--nat", "--memory", "512", "--vcpu", "1", "--disk-size", "2G")
	marker := fmt.Sprintf("marker-%d", time.Now().UnixNano())
	e.ssh(name, "echo "+marker+" > /dev/shm/marker; "+counterLoop)
	time.Sleep(3 * time.Second)
	loopPID := strings.TrimSpace(e.ssh(name, "cat /dev/shm/counter.pid"))
	c1 := e.counter(name)
	running := e.show(name)

	start := time.Now()
	out := e.MustRun("vm", "suspend", name)
	t.Logf("suspend took %s: %s", time.Since(start), strings.TrimSpace(out))
	if processAlive(running.PID) {
		t.Fatal("VMM process still runs after suspend")
	}
	if linkExists(running.Tap) {
		t.Fatal("tap kept while suspended")
	}
	var list []savedVM
	e.JSON(&list, "vm", "list")
	if len(list) != 1 || list[0].State != "suspended" || list[0].SavedState == nil || list[0].SavedState.Size < 1<<20 {
		t.Fatalf("vm list while suspended: %+v", list)
	}
	if !strings.Contains(e.MustRun("vm", "list"), "suspended (") {
		t.Fatal("vm list text does not show the state size")
	}

	dpid := e.DaemonPID()
	if err := syscall.Kill(dpid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(5*time.Second, 50*time.Millisecond, func() bool { return !processAlive(dpid) })
	var after savedVM
	e.JSON(&after, "vm", "show", name)
	if after.State != "suspended" || after.SavedState == nil {
		t.Fatalf("after daemon kill: %+v", after)
	}
	if r := e.Run("vm", "set", name, "--memory", "1024"); r.Code == 0 || !strings.Contains(r.Stderr, "suspended") {
		t.Fatalf("vm set --memory on a suspended VM: %+v", r)
	}

	time.Sleep(3 * time.Second) // let the host clock run ahead of the guest's
	start = time.Now()
	e.MustRun("vm", "resume", name)
	t.Logf("resume to SSH-ready took %s", time.Since(start))
	if off := e.guestClockOffset(name); off < -1 || off > 1 {
		t.Fatalf("guest clock off by %.3f s after resume", off)
	}
	if got := strings.TrimSpace(e.ssh(name, "cat /dev/shm/marker")); got != marker {
		t.Fatalf("/dev/shm/marker = %q, want %q", got, marker)
	}
	if got := strings.TrimSpace(e.ssh(name, "cat /dev/shm/counter.pid; kill -0 $(cat /dev/shm/counter.pid) && echo alive")); got != loopPID+"\nalive" {
		t.Fatalf("counter loop after resume: %q (was pid %s)", got, loopPID)
	}
	if c2 := e.counter(name); c2 < c1 {
		t.Fatalf("counter went back from %d to %d: the loop restarted", c1, c2)
	}
	resumed := e.show(name)
	if resumed.IP != running.IP || resumed.Tap != running.Tap || resumed.State != "running" {
		t.Fatalf("resumed VM %+v, was %+v", resumed, running)
	}
	if !strings.Contains(e.dig(name+".vm", "+short"), running.IP) {
		t.Fatal("DNS name does not resolve after resume")
	}
	if r := e.guest(name, "timeout 240 apt-get update -q"); r.Code != 0 {
		t.Fatalf("apt-get update in the resumed NAT VM: %+v", r)
	}
	e.MustRun("vm", "delete", "--force", name)
}

// TestSnapshotRestore: a disk-only snapshot brings back the work disk and /
// as they were; a --memory snapshot also brings back the running programs.
func TestSnapshotRestore(t *testing.T) {
	requireRoot(t)
	e := newEnv(t, "")
	name := "snappy"
	e.MustRun("vm", "create", "--name", name, "--memory", "512", "--vcpu", "1", "--disk-size", "2G")
	e.ssh(name, "echo v1 > /root/work-file; echo v1 > /etc/sys-file; sync")
	e.MustRun("vm", "snapshot", "create", name, "s1")
	e.ssh(name, "echo v2 > /root/work-file; echo v2 > /etc/sys-file; touch /root/new-file; sync")

	if r := e.Run("vm", "snapshot", "restore", name, "s1"); r.Code == 0 || !strings.Contains(r.Stderr, "--force") {
		t.Fatalf("restore into a running VM without --force: %+v", r)
	}
	e.MustRun("vm", "snapshot", "restore", "--force", name, "s1")
	if v := e.show(name); v.State != "stopped" {
		t.Fatalf("after a disk-only restore: %s", v.State)
	}
	e.MustRun("vm", "start", name)
	if got := e.ssh(name, "cat /root/work-file /etc/sys-file; test -e /root/new-file && echo new || true"); got != "v1\nv1\n" {
		t.Fatalf("after restore of s1: %q", got)
	}

	e.ssh(name, "echo v2m > /root/work-file; sync; "+counterLoop)
	time.Sleep(2 * time.Second)
	loopPID := strings.TrimSpace(e.ssh(name, "cat /dev/shm/counter.pid"))
	e.MustRun("vm", "snapshot", "create", "--memory", name, "s2")
	e.ssh(name, "echo v3 > /root/work-file; kill $(cat /dev/shm/counter.pid); rm /dev/shm/counter.pid; sync")
	e.MustRun("vm", "snapshot", "restore", "--force", name, "s2")
	if v := e.show(name); v.State != "suspended" {
		t.Fatalf("after a memory restore: %s", v.State)
	}
	e.MustRun("vm", "start", name)
	if got := strings.TrimSpace(e.ssh(name, "cat /root/work-file; cat /dev/shm/counter.pid; kill -0 $(cat /dev/shm/counter.pid) && echo alive")); got != "v2m\n"+loopPID+"\nalive" {
		t.Fatalf("after restore of s2 --memory: %q (loop pid was %s)", got, loopPID)
	}

	var snaps []struct {
		Name      string `json:"name"`
		Memory    bool   `json:"memory"`
		Method    string `json:"method"`
		Allocated int64  `json:"allocated"`
	}
	e.JSON(&snaps, "vm", "snapshot", "list", name)
	if len(snaps) != 2 || snaps[0].Name != "s1" || snaps[0].Memory || !snaps[1].Memory || snaps[0].Method == "" || snaps[1].Allocated <= snaps[0].Allocated {
		t.Fatalf("snapshot list: %+v", snaps)
	}
	t.Logf("snapshots: %+v", snaps)
	e.MustRun("vm", "snapshot", "delete", name, "s1")
	e.JSON(&snaps, "vm", "snapshot", "list", name)
	if len(snaps) != 1 {
		t.Fatalf("after delete: %+v", snaps)
	}
	e.MustRun("vm", "delete", "--force", name)
}

// TestClone: a clone of a suspended VM runs beside it with its own name,
// hostname, address and host key, and has the source's files.
func TestClone(t *testing.T) {
	requireRoot(t)
	e := newEnv(t, "")
	e.MustRun("vm", "create", "--name", "orig", "--memory", "512", "--vcpu", "1", "--disk-size", "2G")
	e.ssh("orig", "echo from-orig > /root/orig-file; sync")
	e.MustRun("vm", "suspend", "orig")
	e.MustRun("vm", "clone", "orig", "twin")
	e.MustRun("vm", "resume", "orig")
	o, c := e.show("orig"), e.show("twin")
	if o.State != "running" || c.State != "running" || o.IP == c.IP || o.Tap == c.Tap {
		t.Fatalf("orig %+v, twin %+v", o, c)
	}
	if got := e.ssh("twin", "hostname; cat /root/orig-file"); got != "twin\nfrom-orig\n" {
		t.Fatalf("twin: %q", got)
	}
	if got := e.ssh("orig", "hostname"); got != "orig\n" {
		t.Fatalf("orig hostname: %q", got)
	}
	ko, kc := e.ssh("orig", "cat /etc/ssh/ssh_host_ed25519_key.pub"), e.ssh("twin", "cat /etc/ssh/ssh_host_ed25519_key.pub")
	if strings.Fields(ko)[1] == strings.Fields(kc)[1] {
		t.Fatal("clone has the source's SSH host key")
	}
	if r := e.guest("twin", "ping -c1 -W5 "+o.IP); r.Code != 0 {
		t.Fatalf("twin cannot reach orig: %+v", r)
	}
	e.MustRun("vm", "delete", "--force", "twin")
	e.MustRun("vm", "delete", "--force", "orig")
}

// TestSuspendAllResumesAtDaemonStart: with resume_on_start, the VMs that
// `vm suspend --all` suspended are resumed when the daemon next starts
// (the host-reboot path, minus the reboot).
func TestSuspendAllResumesAtDaemonStart(t *testing.T) {
	requireRoot(t)
	e := newEnv(t, "resume_on_start = true\n")
	name := "phoenix"
	e.MustRun("vm", "create", "--name", name, "--memory", "512", "--vcpu", "1", "--disk-size", "2G")
	e.ssh(name, counterLoop)
	time.Sleep(2 * time.Second)
	loopPID := strings.TrimSpace(e.ssh(name, "cat /dev/shm/counter.pid"))
	if out := e.MustRun("vm", "suspend", "--all"); !strings.Contains(out, name+" suspended") {
		t.Fatalf("suspend --all: %q", out)
	}
	e.MustRun("daemon", "stop")
	e.MustRun("daemon", "status") // auto-starts a daemon, which resumes in the background
	if !waitFor(3*time.Minute, time.Second, func() bool { return e.show(name).State == "running" }) {
		t.Fatalf("%s not resumed at daemon start: %+v", name, e.show(name))
	}
	e.waitSSH(name, 2*time.Minute)
	if got := strings.TrimSpace(e.ssh(name, "kill -0 $(cat /dev/shm/counter.pid) && cat /dev/shm/counter.pid")); got != loopPID {
		t.Fatalf("counter loop after resume at start: %q, want pid %s", got, loopPID)
	}
	// The daemon steps the clock right after its SSH check, which may
	// still be under way.
	var off float64
	if !waitFor(30*time.Second, time.Second, func() bool { off = e.guestClockOffset(name); return off >= -1 && off <= 1 }) {
		t.Fatalf("guest clock off by %.3f s after resume at start", off)
	}
	e.MustRun("vm", "delete", "--force", name)
}
