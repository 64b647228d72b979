package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/bangerdev/banger/internal/api"
)

// valueWidth is the width of the figure left of a chart in the details pane.
const valueWidth = 20

func (m model) detailsView() string {
	d := m.det
	if d.vm == nil {
		if d.err != nil {
			return errorStyle.Render(fmt.Sprintf("error: get %s: %v", d.name, d.err)) + "\n\nPress esc to go back."
		}
		return "loading " + d.name + "…"
	}
	vm := d.vm
	var b strings.Builder
	line := func(label, format string, args ...any) { labelLine(&b, label, format, args...) }
	b.WriteString(headingStyle.Render(vm.Name) + "  " + vm.State + "\n")
	if d.err != nil {
		b.WriteString(errorStyle.Render("error: refresh: "+d.err.Error()) + "\n")
	}
	if text, ok := m.busy[vm.Name]; ok {
		if p := m.progress[vm.Name]; p != "" {
			text += ": " + p
		}
		line("now", "%s…", text)
	}
	engine := vm.Driver
	if vm.Accel != "" {
		engine += "/" + vm.Accel
	}
	if vm.PID > 0 {
		engine += fmt.Sprintf(", pid %d", vm.PID)
	}
	line("image", "%s  (%s)", vm.Image, engine)
	line("address", "%s  %s  mac %s  tap %s", dash(vm.IP), dash(vm.DNSName), dash(vm.MAC), dash(vm.Tap))
	line("size", "%d vCPU, %s memory, %s disk, NAT %s", vm.VCPUs,
		humanBytes(int64(vm.MemoryMiB)<<20), humanBytes(vm.DiskSize), onOff(vm.NAT))
	started := ""
	if !vm.StartedAt.IsZero() && vm.State == api.StateRunning {
		started = ", started " + uptime(m.now().Sub(vm.StartedAt)) + " ago"
	}
	line("created", "%s (%s ago)%s", vm.CreatedAt.Local().Format("2006-01-02 15:04"), age(m.now().Sub(vm.CreatedAt)), started)
	line("dir", "%s", dash(vm.Files.Dir))
	if st := vm.SavedState; st != nil {
		line("suspended", "%s of saved state (%s %s); start resumes it", humanBytes(st.Size), st.Driver, st.VMMVersion)
	}
	if vm.LastError != "" {
		line("error", "%s", errorStyle.Render(vm.LastError))
	}
	b.WriteString(m.statsView())
	return b.String()
}

// labelLine writes one "  label     value" line of the details pane.
func labelLine(b *strings.Builder, label, format string, args ...any) {
	fmt.Fprintf(b, "  %s %s\n", labelStyle.Render(fmt.Sprintf("%-9s", label)), fmt.Sprintf(format, args...))
}

// statsView renders host and guest figures; CPU, memory and network carry
// a sparkline of the last few minutes.
func (m model) statsView() string {
	d := m.det
	var b strings.Builder
	if d.statsErr != nil {
		return "\n" + errorStyle.Render("error: stats: "+d.statsErr.Error()) + "\n"
	}
	st := d.stats
	if st == nil {
		return ""
	}
	s := m.hist[d.name]
	if s == nil {
		s = &series{}
	}
	chartW := max(m.width-2-10-valueWidth-2, 8)
	chart := func(vals []float64, top float64) string {
		return chartStyle.Render(sparkline(vals, min(chartW, chartSamples), top))
	}
	row := func(label, value, spark, extra string) {
		labelLine(&b, label, "%-*s %s %s", valueWidth, value, spark, extra)
	}
	h := st.Host
	span := ""
	if sp := s.span(); sp > 0 {
		span = fmt.Sprintf(" (charts: last %s, every %s)", uptime(sp), m.refresh)
	}
	fmt.Fprintf(&b, "\n%s%s\n", headingStyle.Render("host"), labelStyle.Render(span))
	row("cpu", fmt.Sprintf("%.1f%%", h.CPUPercent), chart(s.cpu(), 100), "")
	memLabel := humanBytes(h.RSSBytes) + " RSS"
	var memTop float64
	if g := st.Guest; g != nil && g.MemTotal > 0 {
		memLabel = humanBytes(g.MemTotal-g.MemAvailable) + " used"
		memTop = float64(g.MemTotal)
	}
	row("memory", memLabel, chart(s.mem(), memTop), "")
	rx, tx := s.rates()
	sum := make([]float64, len(rx))
	netLabel := "-"
	for i := range rx {
		sum[i] = rx[i] + tx[i]
	}
	if n := len(rx); n > 0 {
		netLabel = "↓" + rate(rx[n-1]) + " ↑" + rate(tx[n-1])
	}
	row("network", netLabel, chart(sum, 0), "")
	labelLine(&b, "", "%s received, %s sent; %s CPU time; %s resident", humanBytes(h.NetRxBytes), humanBytes(h.NetTxBytes),
		uptime(time.Duration(h.CPUSeconds*float64(time.Second))), humanBytes(h.RSSBytes))
	labelLine(&b, "disk", "work %s of %s, overlay %s; read %s, written %s", humanBytes(h.WorkDiskAlloc),
		humanBytes(h.WorkDiskSize), humanBytes(h.OverlayAlloc), humanBytes(h.DiskReadBytes), humanBytes(h.DiskWriteBytes))
	fmt.Fprintf(&b, "\n%s\n", headingStyle.Render("guest"))
	g := st.Guest
	if g == nil {
		why := st.GuestError
		if why == "" {
			why = "VM is " + st.State
		}
		labelLine(&b, "", "unavailable: %s", why)
		return b.String()
	}
	labelLine(&b, "uptime", "%s, load %.2f %.2f %.2f", uptime(time.Duration(g.UptimeSeconds*float64(time.Second))), g.Load1, g.Load5, g.Load15)
	labelLine(&b, "memory", "%s used of %s", humanBytes(g.MemTotal-g.MemAvailable), humanBytes(g.MemTotal))
	labelLine(&b, "disks", "root %s of %s, work %s of %s used", humanBytes(g.RootUsed), humanBytes(g.RootSize),
		humanBytes(g.WorkUsed), humanBytes(g.WorkSize))
	return b.String()
}
