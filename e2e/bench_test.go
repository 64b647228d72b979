package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/store"
)

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BenchmarkCreateToSSH measures `banger vm create` until SSH is ready against
// the same qemu booting the same kernel and rootfs from a script
// (scripts/boot-direct.sh), alternating the two, and reports the medians and
// their ratio: banger's own overhead. Run with -benchtime=Nx.
func BenchmarkCreateToSSH(b *testing.B) {
	requireRoot(b)
	rt := runtimeDir(b)
	e := newEnvAt(b, rt, "")
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(filepath.Dir(file)), "scripts", "boot-direct.sh")
	var bangerS, directS []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("bench-%d", i)
		start := time.Now()
		e.MustRun("vm", "create", "--name", name, "--memory", "512", "--vcpu", "1", "--disk-size", "2G")
		bangerS = append(bangerS, time.Since(start).Seconds())
		e.MustRun("vm", "delete", "--force", name)

		out, err := exec.CommandContext(context.Background(), script, rt).Output()
		if err != nil {
			b.Fatalf("direct boot: %v", err)
		}
		d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		if err != nil {
			b.Fatalf("direct boot output %q", out)
		}
		directS = append(directS, d)
	}
	b.StopTimer()
	mb, md := median(bangerS), median(directS)
	b.ReportMetric(mb, "banger-s")
	b.ReportMetric(md, "direct-s")
	b.ReportMetric(mb/md, "ratio")
	benchFigure("create_to_ssh_s", mb, "s")
	benchFigure("direct_qemu_s", md, "s")
	benchFigure("ratio", mb/md, "ratio")
}

// BenchmarkVMList100 measures the CLI latency of `banger vm list` (process
// start, socket round trip, SQLite read, table render) with 100 VMs in the
// state database.
func BenchmarkVMList100(b *testing.B) {
	e := newEnvAt(b, filepath.Join(b.TempDir(), "no-bundle"), "")
	e.MustRun("daemon", "status")
	e.MustRun("daemon", "stop")
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(e.Home, "state", "banger", "banger.db"))
	if err != nil {
		b.Fatal(err)
	}
	if err := st.PutImage(ctx, &store.Image{Name: "default", Path: "/nonexistent.ext4", CreatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		v := &model.VM{Name: fmt.Sprintf("vm-%03d", i), Image: "default", State: "stopped", VCPUs: 2, MemoryMiB: 1024,
			DiskSize: 8 << 30, IP: fmt.Sprintf("172.31.%d.%d", 200+i/250, 2+i%250), MAC: "02:00:00:00:00:00",
			Tap: fmt.Sprintf("bgtb%03d", i), Dir: "/nonexistent", CreatedAt: time.Now()}
		if err := st.InsertVM(ctx, v); err != nil {
			b.Fatal(err)
		}
	}
	st.Close()
	e.MustRun("vm", "list") // start the daemon outside the timed loop
	var ms []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		out := e.MustRun("vm", "list")
		ms = append(ms, float64(time.Since(start).Microseconds())/1000)
		if strings.Count(out, "\n") != 101 {
			b.Fatalf("vm list printed %d lines", strings.Count(out, "\n"))
		}
	}
	b.StopTimer()
	benchFigure("vm_list_ms", median(ms), "ms")
}

// figure prints one benchmark figure as make bench reports it.
func benchFigure(name string, value float64, unit string) {
	fmt.Printf("figure: %s %.3f %s\n", name, value, unit)
}

// BenchmarkDockerImageBoot measures create→SSH of the default image (with
// Docker Engine, socket-activated) against the plain base image it was
// derived from, alternating the two, and reports the medians and their
// ratio: what Docker adds to boot time (the goal is nothing). Run with
// -benchtime=Nx.
func BenchmarkDockerImageBoot(b *testing.B) {
	requireRoot(b)
	e := newEnv(b, "")
	var dockerS, baseS []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, img := range []string{"default", "base"} {
			name := fmt.Sprintf("boot-%s-%d", img, i)
			start := time.Now()
			e.MustRun("vm", "create", "--name", name, "--image", img, "--memory", "512", "--vcpu", "1", "--disk-size", "2G")
			s := time.Since(start).Seconds()
			e.MustRun("vm", "delete", "--force", name)
			if img == "default" {
				dockerS = append(dockerS, s)
			} else {
				baseS = append(baseS, s)
			}
		}
	}
	b.StopTimer()
	md, mb := median(dockerS), median(baseS)
	b.ReportMetric(md, "docker-s")
	b.ReportMetric(mb, "base-s")
	b.ReportMetric(md/mb, "ratio")
}
