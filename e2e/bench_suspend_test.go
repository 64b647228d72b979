package e2e

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkResume alternates, on one 1 GiB VM, suspend then resume (until
// SSH is ready and the guest clock set) with stop then cold start (until
// SSH is ready), and prints the figures resume_ratio (median resume /
// median cold start) and suspend_s (median suspend of the 1 GiB guest).
// Run with -benchtime=Nx.
func BenchmarkResume(b *testing.B) {
	requireRoot(b)
	e := newEnv(b, "")
	name := "bench-resume"
	e.MustRun("vm", "create", "--name", name, "--memory", "1024", "--vcpu", "1", "--disk-size", "2G")
	timed := func(args ...string) float64 {
		start := time.Now()
		e.MustRun(args...)
		return time.Since(start).Seconds()
	}
	var suspendS, resumeS, coldS []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		suspendS = append(suspendS, timed("vm", "suspend", name))
		resumeS = append(resumeS, timed("vm", "start", name))
		e.MustRun("vm", "stop", name)
		coldS = append(coldS, timed("vm", "start", name))
	}
	b.StopTimer()
	ratio := median(resumeS) / median(coldS)
	b.ReportMetric(median(resumeS), "resume-s")
	b.ReportMetric(median(coldS), "cold-s")
	b.ReportMetric(median(suspendS), "suspend-s")
	b.ReportMetric(ratio, "resume-ratio")
	fmt.Printf("figure: resume_ratio %.3f ratio (resume %.2f s / cold start %.2f s, medians of %d)\n", ratio, median(resumeS), median(coldS), b.N)
	fmt.Printf("figure: suspend_s %.2f s\n", median(suspendS))
	e.MustRun("vm", "delete", "--force", name)
}
