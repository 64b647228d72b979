package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkBoot alternates `vm create` (until SSH is verified) of the
// default image and of the stock image in BANGER_BENCH_STOCK_RUNTIME (the
// same package list bootstrapped without banger's boot tuning, same kernel,
// VMM and sizes; scripts/bench.sh builds and caches it), and reports:
// boot_ratio (median default / median stock, target <= 0.5), host_ms
// (median host work before the VMM starts), ready_slack_ms (median time
// from the guest's ready signal to the CLI returning, measured as CLI wall
// time minus the daemon's host and guest time, so the CLI round trip
// counts against it), and the median of each host step.
func BenchmarkBoot(b *testing.B) {
	requireRoot(b)
	rt := runtimeDir(b)
	stockRT := os.Getenv("BANGER_BENCH_STOCK_RUNTIME")
	if _, err := os.Stat(filepath.Join(stockRT, "bundle.json")); stockRT == "" || err != nil {
		b.Skip("BANGER_BENCH_STOCK_RUNTIME names no stock bundle (scripts/bench.sh builds one)")
	}
	tuned, stock := newEnvAt(b, rt, ""), newEnvAt(b, stockRT, "")
	size := []string{"--memory", "1024", "--vcpu", "2", "--disk-size", "4G"}
	var tunedS, stockS, hostMS, guestMS, slackMS, shakeMS []float64
	steps := map[string][]float64{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, e := range []*Env{tuned, stock} {
			name := fmt.Sprintf("boot-%d", i)
			start := time.Now()
			e.MustRun(append([]string{"vm", "create", "--name", name}, size...)...)
			wall := time.Since(start)
			bt := e.bootTimings(name).BootTimings
			e.MustRun("vm", "delete", "--force", name)
			if e == stock {
				stockS = append(stockS, wall.Seconds())
				continue
			}
			tunedS = append(tunedS, wall.Seconds())
			hostMS = append(hostMS, float64(bt.HostMS))
			guestMS = append(guestMS, float64(bt.GuestMS))
			slackMS = append(slackMS, float64(wall.Milliseconds()-bt.HostMS-bt.GuestMS))
			shakeMS = append(shakeMS, float64(bt.HandshakeMS))
			for k, v := range bt.HostSteps {
				steps[k] = append(steps[k], float64(v))
			}
		}
	}
	b.StopTimer()
	benchFigure("boot_default_s", median(tunedS), "s")
	benchFigure("boot_stock_s", median(stockS), "s")
	benchFigure("boot_ratio", median(tunedS)/median(stockS), "ratio")
	benchFigure("host_ms", median(hostMS), "ms")
	benchFigure("guest_ms", median(guestMS), "ms")
	benchFigure("ready_slack_ms", median(slackMS), "ms")
	// The verifying handshake is sshd's work in the guest (slow under
	// TCG); what remains of the slack is banger's own.
	benchFigure("ssh_handshake_ms", median(shakeMS), "ms")
	own := make([]float64, len(slackMS))
	for i := range slackMS {
		own[i] = slackMS[i] - shakeMS[i]
	}
	benchFigure("ready_slack_excl_handshake_ms", median(own), "ms")
	names := make([]string, 0, len(steps))
	for k := range steps {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		benchFigure("host_step_"+k+"_ms", median(steps[k]), "ms")
	}
}

// BenchmarkIdleRSS reports the VMM's resident memory for an idle VM (1 GiB,
// 2 vCPUs) 30 s after SSH is ready: idle_rss_mib (target <= 160 MiB under
// TCG).
func BenchmarkIdleRSS(b *testing.B) {
	requireRoot(b)
	e := newEnv(b, "")
	var rss []float64
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("idle-%d", i)
		e.MustRun("vm", "create", "--name", name, "--memory", "1024", "--vcpu", "2", "--disk-size", "4G")
		time.Sleep(30 * time.Second)
		kib, err := vmRSSKiB(e.bootTimings(name).PID)
		if err != nil {
			b.Fatal(err)
		}
		rss = append(rss, float64(kib)/1024)
		e.MustRun("vm", "delete", "--force", name)
	}
	benchFigure("idle_rss_mib", median(rss), "MiB")
}

// vmRSSKiB reads VmRSS of a process.
func vmRSSKiB(pid int) (int64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			return strconv.ParseInt(f[1], 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}
