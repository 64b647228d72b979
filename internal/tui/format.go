package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/bangerdev/banger/internal/api"
)

// column titles of the VM table, in order.
var titles = []string{"NAME", "STATE", "IMAGE", "IP", "VCPU", "MEMORY", "DISK", "NAT", "AGE"}

// Indexes of the columns that shrink when the window is narrow.
const (
	colName  = 0
	colImage = 2
)

// cellPad is the padding the table style adds to every cell.
const cellPad = 1

// rows turns VMs into list rows. A VM with an operation in flight shows
// its step ("creating 2/5") in the STATE column.
func (m model) rows(vms []api.VM) [][]string {
	now := m.now()
	out := make([][]string, 0, len(vms))
	for _, vm := range vms {
		state := vm.State
		if busy, ok := m.busy[vm.Name]; ok {
			state, _, _ = strings.Cut(busy, " ")
			if step := m.steps[vm.Name]; step != "" {
				state += " " + step
			}
		}
		out = append(out, []string{
			vm.Name, state, vm.Image, dash(vm.IP),
			compactInt(vm.VCPUs),
			compactBytes(int64(vm.MemoryMiB) << 20),
			compactBytes(vm.DiskSize),
			onOff(vm.NAT),
			age(now.Sub(vm.CreatedAt)),
		})
	}
	return out
}

// compactInt renders a count for a table cell, "-" when unknown (0).
func compactInt(n int) string {
	if n <= 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

// compactBytes renders a size for a table cell: 512M, 1G, 1.5G.
func compactBytes(n int64) string {
	const mib, gib, tib = 1 << 20, 1 << 30, 1 << 40
	switch {
	case n <= 0:
		return "-"
	case n >= tib:
		return trimFloat(float64(n)/tib) + "T"
	case n >= gib:
		return trimFloat(float64(n)/gib) + "G"
	case n >= mib:
		return trimFloat(float64(n)/mib) + "M"
	}
	return strconv.FormatInt(n>>10, 10) + "K"
}

// trimFloat prints one decimal, dropping ".0".
func trimFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0")
}

// humanBytes renders a size for the details pane: 0 B, 12 KiB, 1.5 GiB.
func humanBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB"}
	f := float64(n) / 1024
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return trimFloat(f) + " " + units[i]
}

// age renders a duration in at most four cells: 45s, 12m, 5h, 3d, 210d.
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "-"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

// uptime renders a duration as 3d4h, 5h12m or 42s.
func uptime(d time.Duration) string {
	d = d.Truncate(time.Second)
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd%dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	case d >= time.Minute:
		return fmt.Sprintf("%dm%ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	return fmt.Sprintf("%ds", int(d/time.Second))
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// fit cuts or pads s to exactly height lines of at most width cells.
func fit(s string, width, height int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > height {
		lines = lines[:max(height, 0)]
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, width, "…")
	}
	for len(lines) < height {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}
