package e2e

import (
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/config"
)

type bootTimings struct {
	HostMS      int64            `json:"host_ms"`
	GuestMS     int64            `json:"guest_ms"`
	ReadyMS     int64            `json:"ready_ms"`
	TotalMS     int64            `json:"total_ms"`
	Signal      string           `json:"signal"`
	HostSteps   map[string]int64 `json:"host_steps"`
	HandshakeMS int64            `json:"handshake_ms"`
}

type vmBootJSON struct {
	PID         int          `json:"pid"`
	Accel       string       `json:"accel"`
	BootTimings *bootTimings `json:"boot_timings"`
}

func (e *Env) bootTimings(name string) vmBootJSON {
	e.t.Helper()
	var v vmBootJSON
	e.JSON(&v, "vm", "show", name)
	if v.BootTimings == nil {
		e.t.Fatalf("vm show %s has no boot_timings", name)
	}
	return v
}

// checkTimings asserts the parts of a start add up to its total within 5%
// and that readiness came from the guest's console line.
func checkTimings(t *testing.T, what string, b *bootTimings) {
	t.Helper()
	sum := b.HostMS + b.GuestMS + b.ReadyMS
	if b.TotalMS <= 0 || b.GuestMS <= 0 || math.Abs(float64(sum-b.TotalMS)) > 0.05*float64(b.TotalMS) {
		t.Errorf("%s: boot_timings %+v: host+guest+ready = %d ms, total %d ms", what, b, sum, b.TotalMS)
	}
	if b.Signal != "console" {
		t.Errorf("%s: readiness detected by %q, want the guest's console line", what, b.Signal)
	}
}

// TestBootPath boots the default image and checks the fast boot path:
// timings recorded and consistent for create and start, readiness from the
// console line, /root mounted from /dev/vdb without fsck, / grown, the rest
// of boot completing without failed units, and a high-resolution
// clocksource.
func TestBootPath(t *testing.T) {
	requireRoot(t)
	e := newEnv(t, "")
	const name = "boot-otter"
	out := e.MustRun("vm", "create", "--name", name, "--memory", "1024", "--vcpu", "2", "--disk-size", "2G")
	if !strings.Contains(out, "ready in ") {
		t.Errorf("create output lacks the boot time: %q", out)
	}
	v := e.bootTimings(name)
	checkTimings(t, "create", v.BootTimings)
	for _, step := range []string{"reserve", "work_disk", "overlay", "tap"} {
		if _, ok := v.BootTimings.HostSteps[step]; !ok {
			t.Errorf("host step %s missing: %v", step, v.BootTimings.HostSteps)
		}
	}

	if got := e.ssh(name, "findmnt -n -o SOURCE /root"); strings.TrimSpace(got) != "/dev/vdb" {
		t.Errorf("/root is mounted from %q, want /dev/vdb", got)
	}
	// The rest of boot runs after SSH is up; wait for it and require a
	// clean result (no unit failed by the reordering).
	state := e.ssh(name, "systemctl is-system-running --wait || systemctl --failed --no-legend")
	if !strings.HasPrefix(state, "running") {
		t.Errorf("system state after boot: %q", state)
	}
	// The rest of boot waited for the host's datagram after the verifying
	// probe, not for banger-hold's 10 s timeout.
	if got := e.ssh(name, "journalctl -b -u banger-hold.service -o cat --no-pager"); !strings.Contains(got, "released by the host") {
		t.Errorf("banger-hold was not released by the host: %q", got)
	}
	// The guest announced its address as its link came up (gratuitous
	// ARP), so the host's probe did not wait on an ARP retry.
	if got := e.ssh(name, "cat /proc/sys/net/ipv4/conf/$(ip -o route show default | awk '{print $5}')/arp_notify"); strings.TrimSpace(got) != "1" {
		t.Errorf("guest NIC arp_notify = %q, want 1", got)
	}
	// growfs ran once and recorded the disk size; logind runs (power key).
	got := strings.Fields(e.ssh(name, "systemctl is-active banger-growfs.service systemd-logind.service; cat /var/lib/banger/rootfs-sectors"))
	if len(got) != 3 || got[0] != "inactive" || got[1] != "active" || strings.Trim(got[2], "0123456789") != "" {
		t.Errorf("growfs state, logind state, size stamp = %q", got)
	}
	// Under TCG the translation cache is the configured tcg_cache_mib.
	if v.Accel == "tcg" {
		cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", v.PID))
		want := fmt.Sprintf("tcg,tb-size=%d\x00", config.DefaultTCGCacheMiB)
		if err != nil || !strings.Contains(string(cmd), want) {
			t.Errorf("VMM command line %q (%v) lacks %q (the tcg_cache_mib default)", cmd, err, want)
		}
	}
	cs := strings.TrimSpace(e.ssh(name, "cat /sys/devices/system/clocksource/clocksource0/current_clocksource"))
	want := map[string]string{"tcg": "tsc", "kvm": "kvm-clock"}[v.Accel]
	if cs != want {
		t.Errorf("guest clocksource %q under %s, want %q", cs, v.Accel, want)
	}

	e.MustRun("vm", "stop", name)
	out = e.MustRun("vm", "start", name)
	if !strings.Contains(out, "ready in ") {
		t.Errorf("start output lacks the boot time: %q", out)
	}
	checkTimings(t, "start", e.bootTimings(name).BootTimings)
	if got := e.ssh(name, "journalctl -b -u banger-growfs.service --no-pager -q | grep -c 'grew /' || true"); strings.TrimSpace(got) != "0" {
		t.Errorf("/ was grown again on a start with an unchanged disk: %q", got)
	}

	// A start that does not wait sends no release datagram, so the guest
	// must not hold its boot for one.
	e.MustRun("vm", "stop", name)
	e.MustRun("vm", "start", "--no-wait", name)
	e.waitSSH(name, 2*time.Minute)
	if got := e.ssh(name, "systemctl show -p ConditionResult --value banger-hold.service"); strings.TrimSpace(got) != "no" {
		t.Errorf("--no-wait start: banger-hold condition result %q, want no (not held)", got)
	}
}
