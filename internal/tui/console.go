package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/bangerdev/banger/internal/api"
)

// consoleMaxLines bounds the console scrollback kept in memory.
const consoleMaxLines = 5000

// console is the serial console pane of one VM: a followed `vm logs`.
type console struct {
	id      int
	name    string
	lines   []string
	partial string
	vp      viewport.Model
	cancel  context.CancelFunc
	ended   string // why the stream stopped, when it did
	err     error

	search    textinput.Model
	searching bool
	term      string
	matches   []int // line numbers containing term
	match     int   // index into matches
}

// consoleOpenMsg carries the opened log stream.
type consoleOpenMsg struct {
	id  int
	rc  io.ReadCloser
	err error
}

// consoleDataMsg carries one read from the log stream.
type consoleDataMsg struct {
	id   int
	rc   io.ReadCloser
	data string
	err  error
}

// openConsole shows vm's serial console and starts following it.
func (m model) openConsole(vm api.VM) (tea.Model, tea.Cmd) {
	m.closeConsole()
	ctx, cancel := context.WithCancel(m.ctx)
	id := 1
	if m.con != nil {
		id = m.con.id + 1
	}
	s := textinput.New()
	s.Prompt = "search: "
	m.con = &console{id: id, name: vm.Name, cancel: cancel, vp: viewport.New(m.width, 1), search: s}
	m.back, m.screen = m.screen, screenConsole
	m.layoutConsole()
	be, name := m.be, vm.Name
	return m, func() tea.Msg {
		rc, err := be.Logs(ctx, name, true)
		return consoleOpenMsg{id: id, rc: rc, err: err}
	}
}

// closeConsole stops following the console.
func (m *model) closeConsole() {
	if m.con != nil && m.con.cancel != nil {
		m.con.cancel()
		m.con.cancel = nil
	}
}

// readConsole reads the next chunk of the stream.
func readConsole(id int, rc io.ReadCloser) tea.Cmd {
	return func() tea.Msg {
		buf := make([]byte, 32<<10)
		n, err := rc.Read(buf)
		return consoleDataMsg{id: id, rc: rc, data: string(buf[:n]), err: err}
	}
}

func (m model) live(id int) bool { return m.con != nil && m.con.id == id && m.con.cancel != nil }

func (m model) consoleOpened(msg consoleOpenMsg) (tea.Model, tea.Cmd) {
	if !m.live(msg.id) {
		if msg.rc != nil {
			msg.rc.Close()
		}
		return m, nil
	}
	if msg.err != nil {
		m.con.err = msg.err
		return m, nil
	}
	return m, readConsole(msg.id, msg.rc)
}

func (m model) consoleData(msg consoleDataMsg) (tea.Model, tea.Cmd) {
	if !m.live(msg.id) {
		msg.rc.Close()
		return m, nil
	}
	c := m.con
	if msg.data != "" {
		c.add(msg.data)
	}
	if msg.err != nil {
		msg.rc.Close()
		c.ended = "the console stream ended"
		if !errors.Is(msg.err, io.EOF) {
			c.ended += ": " + msg.err.Error()
		}
		return m, nil
	}
	return m, readConsole(msg.id, msg.rc)
}

// add appends console output, keeping the view at the end when it was.
func (c *console) add(data string) {
	data = strings.ReplaceAll(ansi.Strip(c.partial+data), "\r", "")
	parts := strings.Split(data, "\n")
	c.partial = parts[len(parts)-1]
	c.lines = append(c.lines, parts[:len(parts)-1]...)
	if n := len(c.lines); n > consoleMaxLines {
		c.lines = append(c.lines[:0:0], c.lines[n-consoleMaxLines:]...)
	}
	c.refresh()
}

// refresh re-renders the content, following the end when at the bottom.
func (c *console) refresh() {
	follow := c.vp.AtBottom()
	c.findMatches()
	all := append(c.lines[:len(c.lines):len(c.lines)], c.partial)
	shown := make([]string, len(all))
	for i, l := range all {
		shown[i] = highlight(l, c.term)
	}
	c.vp.SetContent(strings.Join(shown, "\n"))
	if follow {
		c.vp.GotoBottom()
	}
}

// findMatches lists the lines that contain the search term.
func (c *console) findMatches() {
	c.matches = c.matches[:0]
	if c.term == "" {
		return
	}
	t := strings.ToLower(c.term)
	for i, l := range c.lines {
		if strings.Contains(strings.ToLower(l), t) {
			c.matches = append(c.matches, i)
		}
	}
	if strings.Contains(strings.ToLower(c.partial), t) {
		c.matches = append(c.matches, len(c.lines))
	}
}

// highlight marks every case-insensitive occurrence of term in l.
func highlight(l, term string) string {
	if term == "" {
		return l
	}
	lower, t := strings.ToLower(l), strings.ToLower(term)
	var b strings.Builder
	for {
		i := strings.Index(lower, t)
		if i < 0 || len(lower) != len(l) {
			b.WriteString(l)
			return b.String()
		}
		b.WriteString(l[:i] + matchStyle.Render(l[i:i+len(t)]))
		l, lower = l[i+len(t):], lower[i+len(t):]
	}
}

// jump shows match i (wrapping) a few lines below the top.
func (c *console) jump(i int) {
	if len(c.matches) == 0 {
		return
	}
	c.match = (i + len(c.matches)) % len(c.matches)
	c.vp.SetYOffset(max(c.matches[c.match]-2, 0))
}

// consoleKey handles a key on the console pane.
func (m model) consoleKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	k, c := m.keys, m.con
	switch {
	case key.Matches(msg, k.Back):
		m.closeConsole()
		m.screen = m.back
		if m.screen == screenConsole || m.screen == screenHelp {
			m.screen = screenList
		}
		return m, nil
	case key.Matches(msg, k.Search):
		c.searching = true
		c.search.SetValue(c.term)
		return m, c.search.Focus()
	case key.Matches(msg, k.Next):
		c.jump(c.match + 1)
		return m, nil
	case key.Matches(msg, k.Prev):
		c.jump(c.match - 1)
		return m, nil
	case key.Matches(msg, k.Top):
		c.vp.GotoTop()
		return m, nil
	case key.Matches(msg, k.Follow):
		c.vp.GotoBottom()
		return m, nil
	}
	var cmd tea.Cmd
	c.vp, cmd = c.vp.Update(msg)
	return m, cmd
}

// searchKey edits the search term; enter searches from the top of the
// view downwards, esc gives up.
func (m model) searchKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	c := m.con
	switch msg.String() {
	case "enter":
		c.searching = false
		c.search.Blur()
		c.term = strings.TrimSpace(c.search.Value())
		top := c.vp.YOffset
		c.refresh()
		c.match = 0
		for i, l := range c.matches {
			if l >= top {
				c.match = i
				break
			}
		}
		c.jump(c.match)
		return m, nil
	case "esc":
		c.searching = false
		c.search.Blur()
		return m, nil
	}
	var cmd tea.Cmd
	c.search, cmd = c.search.Update(msg)
	return m, cmd
}

// layoutConsole sizes the console to the body.
func (m *model) layoutConsole() {
	if m.con == nil {
		return
	}
	m.con.vp.Width = m.width
	m.con.vp.Height = max(m.height-chromeLines-1, 1)
	m.con.search.Width = max(m.width-12, 10)
	m.con.refresh()
}

// consoleView renders the console pane.
func (m model) consoleView() string {
	c := m.con
	head := headingStyle.Render("console of "+c.name) + "  "
	switch {
	case c.err != nil:
		return head + "\n\n" + errorStyle.Render("error: console of "+c.name+": "+c.err.Error())
	case c.ended != "":
		head += c.ended
	case c.vp.AtBottom():
		head += "following"
	default:
		head += fmt.Sprintf("line %d of %d, G follows", c.vp.YOffset+1, len(c.lines)+1)
	}
	if c.term != "" {
		if len(c.matches) == 0 {
			head += fmt.Sprintf(" │ no match for %q", c.term)
		} else {
			head += fmt.Sprintf(" │ %q: match %d of %d (line %d)", c.term, c.match+1, len(c.matches), c.matches[c.match]+1)
		}
	}
	if len(c.lines) == 0 && c.partial == "" {
		return head + "\n" + labelStyle.Render("waiting for console output…")
	}
	return head + "\n" + c.vp.View()
}
