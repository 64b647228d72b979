package tui

import (
	"strings"
	"time"

	"github.com/bangerdev/banger/internal/api"
)

// chartSamples is how many stats samples a chart keeps: three minutes at
// the default 2 s refresh.
const chartSamples = 90

// sample is one reading of a VM's stats.
type sample struct {
	at     time.Time
	cpu    float64 // host CPU %, as `banger vm stats` shows it
	mem    int64   // guest memory in use, or the VMM's RSS without a guest
	rx, tx int64   // cumulative network bytes
}

// series is the recent history of one VM, oldest first.
type series struct {
	samples []sample
}

// record adds a stats reading of name taken at at.
func (m *model) record(name string, at time.Time, st *api.VMStats) {
	s := m.hist[name]
	if s == nil {
		s = &series{}
		m.hist[name] = s
	}
	mem := st.Host.RSSBytes
	if g := st.Guest; g != nil && g.MemTotal > 0 {
		mem = g.MemTotal - g.MemAvailable
	}
	s.samples = append(s.samples, sample{at: at, cpu: st.Host.CPUPercent, mem: mem, rx: st.Host.NetRxBytes, tx: st.Host.NetTxBytes})
	if n := len(s.samples); n > chartSamples {
		s.samples = append(s.samples[:0:0], s.samples[n-chartSamples:]...)
	}
}

// cpu returns the CPU % history.
func (s *series) cpu() []float64 {
	out := make([]float64, len(s.samples))
	for i, x := range s.samples {
		out[i] = x.cpu
	}
	return out
}

// mem returns the memory history in bytes.
func (s *series) mem() []float64 {
	out := make([]float64, len(s.samples))
	for i, x := range s.samples {
		out[i] = float64(x.mem)
	}
	return out
}

// rates returns received and sent bytes per second between samples; a
// counter that went back (VM restarted) counts as zero.
func (s *series) rates() (rx, tx []float64) {
	for i := 1; i < len(s.samples); i++ {
		a, b := s.samples[i-1], s.samples[i]
		dt := b.at.Sub(a.at).Seconds()
		if dt <= 0 {
			continue
		}
		rx = append(rx, max(float64(b.rx-a.rx), 0)/dt)
		tx = append(tx, max(float64(b.tx-a.tx), 0)/dt)
	}
	return rx, tx
}

// span is how much time the history covers.
func (s *series) span() time.Duration {
	if len(s.samples) < 2 {
		return 0
	}
	return s.samples[len(s.samples)-1].at.Sub(s.samples[0].at)
}

// sparkBars are the eight heights of a sparkline cell.
var sparkBars = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the last width values scaled to 0..top (top <= 0: the
// largest value), right-aligned, blank-padded on the left.
func sparkline(vals []float64, width int, top float64) string {
	if width <= 0 {
		return ""
	}
	if len(vals) > width {
		vals = vals[len(vals)-width:]
	}
	for _, v := range vals {
		top = max(top, v)
	}
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", width-len(vals)))
	for _, v := range vals {
		i := 0
		if top > 0 {
			i = int(v / top * float64(len(sparkBars)-1))
		}
		b.WriteRune(sparkBars[max(min(i, len(sparkBars)-1), 0)])
	}
	return b.String()
}

// rate renders bytes per second.
func rate(v float64) string {
	return humanBytes(int64(v)) + "/s"
}
