package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/bangerdev/banger/internal/api"
)

// chromeLines are the lines around the body: title, status and key hints.
const chromeLines = 3

// Styles. Every cue they give is also given in text (">" cursor, "*" mark,
// "!" errors, "[x]" toggles), so the TUI reads the same with NO_COLOR.
var (
	titleStyle    = lipgloss.NewStyle().Bold(true)
	headingStyle  = lipgloss.NewStyle().Bold(true).Underline(true)
	labelStyle    = lipgloss.NewStyle().Faint(true)
	errorStyle    = lipgloss.NewStyle().Foreground(lipgloss.Color("9")).Bold(true)
	warnStyle     = lipgloss.NewStyle().Foreground(lipgloss.Color("11")).Bold(true)
	noticeStyle   = lipgloss.NewStyle().Foreground(lipgloss.Color("10"))
	selectedStyle = lipgloss.NewStyle().Reverse(true)
	focusStyle    = lipgloss.NewStyle().Bold(true)
	matchStyle    = lipgloss.NewStyle().Reverse(true)
	chartStyle    = lipgloss.NewStyle().Foreground(lipgloss.Color("14"))
)

// View renders the whole screen.
func (m model) View() string {
	// A long error wraps onto up to three lines, taken from the body.
	status := strings.Split(ansi.Wrap(m.statusLine(), m.width, ""), "\n")
	status = status[:min(len(status), 3, max(m.height-chromeLines, 1))]
	bodyH := max(m.height-chromeLines+1-len(status), 1)
	if h := bodyH - 1; h < m.list.height {
		m.list.height = max(h, 1)
		m.list.setCursor(m.list.cursor)
	}
	var body string
	switch {
	case m.form != nil:
		body = m.form.view(m.width)
	case m.screen == screenDetails:
		body = m.detailsView()
	case m.screen == screenImages:
		body = m.imagesView()
	case m.screen == screenImage:
		body = m.imageView()
	case m.screen == screenBuild && m.build != nil:
		body = m.buildView()
	case m.screen == screenConsole && m.con != nil:
		body = m.consoleView()
	case m.screen == screenHelp:
		body = m.helpView()
	default:
		body = m.listView()
	}
	hints := m.help.ShortHelpView(m.hintKeys())
	out := []string{
		fit(m.titleLine(), m.width, 1),
		fit(body, m.width, bodyH),
		fit(strings.Join(status, "\n"), m.width, len(status)),
		fit(hints, m.width, 1),
	}
	return strings.Join(out, "\n")
}

// hintKeys are the keys listed under the status line for the screen.
func (m model) hintKeys() []key.Binding {
	k := m.keys
	b := func(keys, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys), key.WithHelp(keys, desc))
	}
	switch {
	case m.form != nil:
		return []key.Binding{b("enter", "submit"), b("tab", "next field"), k.Choose, k.Cancel}
	case m.confirm != nil:
		return []key.Binding{k.Yes, k.No}
	case m.filtering:
		return []key.Binding{b("enter", "keep filter"), b("esc", "clear")}
	case m.screen == screenConsole && m.con != nil && m.con.searching:
		return []key.Binding{b("enter", "search"), k.Cancel}
	case m.screen == screenDetails:
		return []key.Binding{k.Back, k.Power, k.Edit, k.Console, k.Delete, k.SSH, k.Quit}
	case m.screen == screenImages:
		return []key.Binding{k.Back, k.ShowImage, k.Build, k.Delete, k.BuildLog, k.Quit}
	case m.screen == screenImage:
		return []key.Binding{k.Back, k.Delete, k.Build, k.Quit}
	case m.screen == screenBuild:
		return []key.Binding{k.Back, b("↑/↓", "scroll"), k.Quit}
	case m.screen == screenConsole:
		return []key.Binding{k.Back, k.Search, k.NextPrev, k.Follow, k.Quit}
	case m.screen == screenHelp:
		return []key.Binding{k.Back, k.Quit}
	}
	return k.listHints()
}

// titleLine is the top line; the version goes first when space is short.
func (m model) titleLine() string {
	version := ""
	if m.status != nil {
		version = " " + m.status.Version
		if m.status.VMM != "" {
			version += " (" + m.status.VMM + ")"
		}
	}
	parts := []string{}
	if !m.loaded {
		parts = append(parts, "loading…")
	} else {
		parts = append(parts, m.counts())
	}
	switch {
	case !m.loaded:
	case m.form != nil:
		parts = append(parts, strings.ToLower(m.form.title))
	case m.screen == screenDetails:
		parts = append(parts, "details")
	case m.screen == screenImages, m.screen == screenImage, m.screen == screenBuild:
		parts = append(parts, "images")
	case m.screen == screenConsole:
		parts = append(parts, "console")
	case m.screen == screenHelp:
		parts = append(parts, "help")
	default:
		if q := m.filter.Value(); q != "" {
			parts = append(parts, fmt.Sprintf("/%s: %d shown", q, len(m.visible)))
		}
		if n := len(m.markedVMs()); n > 0 {
			parts = append(parts, fmt.Sprintf("%d selected", n))
		}
	}
	rest := " │ " + strings.Join(parts, " │ ")
	if lipgloss.Width("banger"+version+rest) > m.width {
		version = ""
	}
	return titleStyle.Render("banger") + version + rest
}

// counts is "3 VMs: 2 running, 1 stopped".
func (m model) counts() string {
	counts := map[string]int{}
	for _, vm := range m.vms {
		counts[vm.State]++
	}
	parts := []string{}
	for _, st := range []string{api.StateRunning, api.StateSuspended, api.StateStopped, api.StateCreating} {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
		}
	}
	s := fmt.Sprintf("%d VM%s", len(m.vms), plural(len(m.vms)))
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	return s
}

func (m model) statusLine() string {
	if c := m.confirm; c != nil {
		return warnStyle.Render(c.question())
	}
	if m.filtering {
		return m.filter.View()
	}
	if m.screen == screenConsole && m.con != nil && m.con.searching {
		return m.con.search.View()
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

// question is the y/n prompt of a confirmation.
func (c *confirmation) question() string {
	if c.image != "" {
		return fmt.Sprintf("delete image %s? (y/n)", c.image)
	}
	what := "VM " + c.vms[0].Name
	if len(c.vms) > 1 {
		what = fmt.Sprintf("%d VMs (%s)", len(c.vms), joinNames(c.vms))
	}
	if c.force {
		return fmt.Sprintf("force delete running %s? (y/n)", what)
	}
	return fmt.Sprintf("delete %s? (y/n)", what)
}

func (m model) listView() string {
	if m.loaded && len(m.visible) == 0 {
		if m.filter.Value() != "" {
			return fmt.Sprintf("\n  No VM matches %q: press esc to clear the filter.", m.filter.Value())
		}
		return "\n  No VMs yet: press c to create one."
	}
	return m.list.view(func(i int) bool { return m.marked[m.visible[i].Name] })
}

func (m model) helpView() string {
	var cols []string
	for _, g := range m.keys.helpGroups() {
		lines := []string{titleStyle.Render(g.title)}
		for _, b := range g.keys {
			h := b.Help()
			lines = append(lines, fmt.Sprintf("%-6s %s", h.Key, h.Desc))
		}
		cols = append(cols, strings.Join(lines, "\n"))
	}
	// Three groups a row keeps every column under 80/3 cells.
	var rows []string
	for i := 0; i < len(cols); i += 3 {
		row := cols[i:min(i+3, len(cols))]
		for j := range row {
			row[j] = lipgloss.NewStyle().Width(max(m.width/3-1, 20)).Render(row[j])
		}
		rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	}
	return strings.Join(rows, "\n") +
		"\nActions apply to the selected VMs, else the cursor's VM. Lists reload every " + m.refresh.String() + "."
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
