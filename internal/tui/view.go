package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/table"
	"github.com/charmbracelet/lipgloss"

	"github.com/bangerdev/banger/internal/api"
)

// chromeLines are the lines around the body: title, status and key hints.
const chromeLines = 3

var (
	titleStyle   = lipgloss.NewStyle().Bold(true)
	headingStyle = lipgloss.NewStyle().Bold(true).Underline(true)
	labelStyle   = lipgloss.NewStyle().Faint(true)
	errorStyle   = lipgloss.NewStyle().Foreground(lipgloss.Color("9")).Bold(true)
	warnStyle    = lipgloss.NewStyle().Foreground(lipgloss.Color("11")).Bold(true)
	noticeStyle  = lipgloss.NewStyle().Foreground(lipgloss.Color("10"))
)

func tableStyles() table.Styles {
	return table.Styles{
		Header:   lipgloss.NewStyle().Bold(true).PaddingRight(cellPad),
		Cell:     lipgloss.NewStyle().PaddingRight(cellPad),
		Selected: lipgloss.NewStyle().Reverse(true),
	}
}

// View renders the whole screen.
func (m model) View() string {
	var body string
	switch m.screen {
	case screenDetails:
		body = m.detailsView()
	case screenImages:
		body = m.imagesView()
	case screenHelp:
		body = m.helpView()
	default:
		body = m.listView()
	}
	hints := m.help.ShortHelpView(m.hintKeys())
	out := []string{
		fit(m.titleLine(), m.width, 1),
		fit(body, m.width, max(m.height-chromeLines, 1)),
		fit(m.statusLine(), m.width, 1),
		fit(hints, m.width, 1),
	}
	return strings.Join(out, "\n")
}

// hintKeys are the keys listed under the status line for the screen.
func (m model) hintKeys() []key.Binding {
	k := m.keys
	switch {
	case m.confirm != nil:
		return []key.Binding{k.Yes, k.No}
	case m.screen == screenDetails:
		return []key.Binding{k.Back, k.Power, k.Restart, k.NAT, k.Delete, k.SSH, k.Quit}
	case m.screen == screenImages || m.screen == screenHelp:
		return []key.Binding{k.Back, k.Quit}
	}
	return k.ShortHelp()
}

func (m model) titleLine() string {
	s := titleStyle.Render("banger")
	if m.status != nil {
		s += " " + m.status.Version
		if m.status.VMM != "" {
			s += " (" + m.status.VMM + ")"
		}
	}
	if !m.loaded {
		return s + " │ loading…"
	}
	counts := map[string]int{}
	for _, vm := range m.vms {
		counts[vm.State]++
	}
	parts := []string{}
	for _, st := range []string{api.StateRunning, api.StateSuspended, api.StateStopped, api.StateCreating, api.StateError} {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
		}
	}
	s += fmt.Sprintf(" │ %d VM%s", len(m.vms), plural(len(m.vms)))
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	switch m.screen {
	case screenDetails:
		s += " │ details"
	case screenImages:
		s += " │ images"
	case screenHelp:
		s += " │ help"
	}
	return s
}

func (m model) statusLine() string {
	if c := m.confirm; c != nil {
		q := fmt.Sprintf("delete VM %s? (y/n)", c.vm.Name)
		if c.force {
			q = fmt.Sprintf("force delete running VM %s? (y/n)", c.vm.Name)
		}
		return warnStyle.Render(q)
	}
	var parts []string
	if len(m.order) > 0 {
		texts := make([]string, 0, len(m.order))
		for _, n := range m.order {
			t := m.busy[n]
			if p := m.progress[n]; p != "" {
				t += ": " + p
			}
			texts = append(texts, t)
		}
		parts = append(parts, m.spin.View()+strings.Join(texts, ", ")+"…")
	}
	if m.hint != "" {
		parts = append(parts, warnStyle.Render(m.hint))
	}
	// A failing refresh is the most urgent news: the list may be stale.
	if m.refreshErr != nil {
		parts = append(parts, errorStyle.Render("error: "+m.refreshErr.Error()))
	}
	if m.lastErr != "" {
		parts = append(parts, errorStyle.Render("error: "+m.lastErr))
	} else if m.notice != "" && m.refreshErr == nil && m.hint == "" {
		parts = append(parts, noticeStyle.Render(m.notice))
	}
	return strings.Join(parts, " │ ")
}

func (m model) listView() string {
	if m.loaded && len(m.vms) == 0 {
		return "\n  No VMs yet: create one with `banger vm create --name NAME`."
	}
	return m.table.View()
}

func (m model) helpView() string {
	h := m.help
	h.ShowAll = true
	return headingStyle.Render("Keys") + "\n\n" + h.FullHelpView(m.keys.FullHelp()) +
		"\n\nActions apply to the selected VM, or to the VM shown in the details pane." +
		"\nThe list reloads every " + m.refresh.String() + ". Press ? or esc to go back."
}

func (m model) imagesView() string {
	if !m.imagesDone {
		return "loading images…"
	}
	if m.imagesErr != nil {
		return errorStyle.Render("error: list images: " + m.imagesErr.Error())
	}
	if len(m.images) == 0 {
		return "No images: build one with `banger image build`."
	}
	grid := [][]string{{"NAME", "SIZE", "BUILTIN", "AGE", "USED BY"}}
	for _, im := range m.images {
		builtin := "no"
		if im.Builtin {
			builtin = "yes"
		}
		used := strings.Join(im.UsedBy, ",")
		if used == "" {
			used = "-"
		}
		grid = append(grid, []string{im.Name, compactBytes(im.Size), builtin, age(m.now().Sub(im.CreatedAt)), used})
	}
	return renderGrid(grid) + "\n\nPress i or esc to go back."
}

// renderGrid aligns cells in columns; the first row is a bold header.
func renderGrid(grid [][]string) string {
	widths := make([]int, len(grid[0]))
	for _, r := range grid {
		for i, c := range r {
			widths[i] = max(widths[i], lipgloss.Width(c))
		}
	}
	lines := make([]string, len(grid))
	for j, r := range grid {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = c + strings.Repeat(" ", widths[i]-lipgloss.Width(c))
		}
		lines[j] = strings.TrimRight(strings.Join(cells, " "), " ")
		if j == 0 {
			lines[j] = titleStyle.Render(lines[j])
		}
	}
	return strings.Join(lines, "\n")
}

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
	line("console", "%s", dash(vm.Files.ConsoleLog))
	if st := vm.SavedState; st != nil {
		line("suspended", "%s of saved state (%s %s), s resumes it", humanBytes(st.Size), st.Driver, st.VMMVersion)
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
	h := st.Host
	fmt.Fprintf(&b, "\n%s\n", headingStyle.Render("host"))
	row := func(label, format string, args ...any) { labelLine(&b, label, format, args...) }
	row("cpu", "%.1f%% (%s total)", h.CPUPercent, uptime(time.Duration(h.CPUSeconds*float64(time.Second))))
	row("memory", "%s resident", humanBytes(h.RSSBytes))
	row("disk", "work %s of %s, overlay %s; read %s, written %s", humanBytes(h.WorkDiskAlloc),
		humanBytes(h.WorkDiskSize), humanBytes(h.OverlayAlloc), humanBytes(h.DiskReadBytes), humanBytes(h.DiskWriteBytes))
	row("network", "received %s, sent %s", humanBytes(h.NetRxBytes), humanBytes(h.NetTxBytes))
	fmt.Fprintf(&b, "\n%s\n", headingStyle.Render("guest"))
	g := st.Guest
	if g == nil {
		why := st.GuestError
		if why == "" {
			why = "VM is " + st.State
		}
		row("", "unavailable: %s", why)
		return b.String()
	}
	row("uptime", "%s", uptime(time.Duration(g.UptimeSeconds*float64(time.Second))))
	row("load", "%.2f %.2f %.2f", g.Load1, g.Load5, g.Load15)
	row("memory", "%s used of %s", humanBytes(g.MemTotal-g.MemAvailable), humanBytes(g.MemTotal))
	row("root fs", "%s used of %s", humanBytes(g.RootUsed), humanBytes(g.RootSize))
	row("work fs", "%s used of %s", humanBytes(g.WorkUsed), humanBytes(g.WorkSize))
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
