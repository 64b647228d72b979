package tui

import (
	"context"
	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/table"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/bangerdev/banger/internal/api"
)

// screen is what the body of the TUI shows.
type screen int

const (
	screenList screen = iota
	screenDetails
	screenImages
	screenHelp
)

// confirmation is a pending y/n question for a delete.
type confirmation struct {
	vm    api.VM
	force bool
}

// details is the state of the details pane.
type details struct {
	name     string
	vm       *api.VM
	stats    *api.VMStats
	err      error
	statsErr error
	loading  bool
}

// model is the bubbletea model of the whole TUI.
type model struct {
	ctx     context.Context
	be      Backend
	refresh time.Duration
	now     func() time.Time
	keys    keyMap

	width, height int
	screen        screen
	table         table.Model
	spin          spinner.Model
	spinning      bool
	help          help.Model

	vms        []api.VM
	status     *api.DaemonStatus
	loaded     bool
	refreshing bool
	refreshErr error

	det        details
	images     []api.Image
	imagesErr  error
	imagesDone bool

	busy     map[string]string // VM name -> operation, e.g. "stopping web"
	progress map[string]string // VM name -> last streamed event
	order    []string          // busy names, oldest first
	events   chan progressMsg
	notice   string
	lastErr  string // last failed backend operation, kept until the next one starts
	hint     string // why the last key did nothing; cleared by the next key
	confirm  *confirmation

	sshTarget string
}

func newModel(ctx context.Context, be Backend, opts Options, sshEnabled bool) model {
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultRefresh
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	keys := newKeyMap(sshEnabled)
	t := table.New(table.WithColumns(columns(nil, 80)), table.WithFocused(true))
	t.KeyMap = tableKeyMap(keys)
	t.SetStyles(tableStyles())
	sp := spinner.New(spinner.WithSpinner(spinner.Dot))
	m := model{
		ctx: ctx, be: be, refresh: opts.Refresh, now: opts.Now, keys: keys,
		width: 80, height: 24,
		table: t, spin: sp, help: help.New(),
		busy:     map[string]string{},
		progress: map[string]string{},
		events:   make(chan progressMsg, 64),
	}
	m.layout()
	return m
}

// Init loads the list and starts the refresh ticker and event listener.
func (m model) Init() tea.Cmd {
	m.refreshing = true
	return tea.Batch(refreshCmd(m.ctx, m.be), tickCmd(m.refresh), listenCmd(m.ctx, m.events))
}

// Update handles one message.
func (m model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case tea.KeyMsg:
		return m.handleKey(msg)
	case tickMsg:
		cmds := []tea.Cmd{tickCmd(m.refresh), m.refreshNow()}
		if m.screen == screenDetails && !m.det.loading {
			m.det.loading = true
			cmds = append(cmds, detailsCmd(m.ctx, m.be, m.det.name))
		}
		return m, tea.Batch(cmds...)
	case listMsg:
		m.refreshing = false
		m.refreshErr = msg.err
		if msg.vms != nil || msg.err == nil {
			m.setVMs(msg.vms)
			m.loaded = true
		}
		if msg.status != nil {
			m.status = msg.status
		}
		return m, nil
	case detailsMsg:
		if msg.name == m.det.name {
			m.det.loading = false
			m.det.err, m.det.statsErr = msg.err, msg.statsErr
			if msg.vm != nil {
				m.det.vm, m.det.stats = msg.vm, msg.stats
			}
		}
		return m, nil
	case imagesMsg:
		m.images, m.imagesErr, m.imagesDone = msg.images, msg.err, true
		return m, nil
	case progressMsg:
		if _, ok := m.busy[msg.name]; ok {
			m.progress[msg.name] = msg.text
		}
		return m, listenCmd(m.ctx, m.events)
	case opDoneMsg:
		return m.finishOp(msg)
	case spinner.TickMsg:
		if len(m.busy) == 0 {
			m.spinning = false
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	}
	return m, nil
}

// refreshNow reloads the list unless a reload is already on its way.
func (m *model) refreshNow() tea.Cmd {
	if m.refreshing {
		return nil
	}
	m.refreshing = true
	return refreshCmd(m.ctx, m.be)
}

func (m model) handleKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
		return m.handleKeys(msg.Runes)
	}
	if msg.String() == "ctrl+c" {
		return m, tea.Quit
	}
	if m.confirm != nil {
		return m.handleConfirm(msg)
	}
	m.hint = ""
	k := m.keys
	switch {
	case key.Matches(msg, k.Quit):
		return m, tea.Quit
	case key.Matches(msg, k.Help):
		m.screen = toggle(m.screen, screenHelp)
		return m, nil
	case key.Matches(msg, k.Images):
		m.screen = toggle(m.screen, screenImages)
		if m.screen == screenImages {
			return m, imagesCmd(m.ctx, m.be)
		}
		return m, nil
	case key.Matches(msg, k.Back):
		m.screen = screenList
		return m, nil
	}
	if m.screen == screenHelp || m.screen == screenImages {
		return m, nil
	}
	vm, ok := m.current()
	switch {
	case key.Matches(msg, k.Details):
		if !ok || m.screen == screenDetails {
			return m, nil
		}
		m.screen = screenDetails
		m.det = details{name: vm.Name, loading: true}
		return m, detailsCmd(m.ctx, m.be, vm.Name)
	case key.Matches(msg, k.Start, k.Stop, k.Restart, k.NAT, k.Delete, k.SSH):
		if !ok {
			m.hint = "no VM selected: create one with `banger vm create`"
			return m, nil
		}
		return m.handleAction(msg, vm)
	}
	if m.screen == screenList {
		var cmd tea.Cmd
		m.table, cmd = m.table.Update(msg)
		return m, cmd
	}
	return m, nil
}

// handleKeys handles letters that reached the program in one read (fast
// typing, key repeat, tmux send-keys) one by one, up to a key that quits.
func (m model) handleKeys(runes []rune) (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	for _, r := range runes {
		msg := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}}
		next, cmd := m.handleKey(msg)
		m = next.(model)
		cmds = append(cmds, cmd)
		if m.sshTarget != "" || (m.confirm == nil && key.Matches(msg, m.keys.Quit)) {
			break
		}
	}
	return m, tea.Batch(cmds...)
}

func (m model) handleAction(msg tea.KeyMsg, vm api.VM) (tea.Model, tea.Cmd) {
	k := m.keys
	if key.Matches(msg, k.SSH) {
		if vm.State != api.StateRunning {
			m.hint = fmt.Sprintf("cannot ssh into %s: it is %s; press s to start it", vm.Name, vm.State)
			return m, nil
		}
		m.sshTarget = vm.Name
		return m, tea.Quit
	}
	if text, ok := m.busy[vm.Name]; ok {
		m.hint = fmt.Sprintf("%s is busy (%s): wait for it to finish", vm.Name, text)
		return m, nil
	}
	switch {
	case key.Matches(msg, k.Delete):
		m.confirm = &confirmation{vm: vm, force: vm.State == api.StateRunning || vm.State == api.StateCreating}
		return m, nil
	case key.Matches(msg, k.Start):
		return m.startOp(opStart, vm, false)
	case key.Matches(msg, k.Stop):
		return m.startOp(opStop, vm, false)
	case key.Matches(msg, k.Restart):
		return m.startOp(opRestart, vm, false)
	case key.Matches(msg, k.NAT):
		return m.startOp(opNAT, vm, false)
	}
	return m, nil
}

func (m model) handleConfirm(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	c := m.confirm
	switch {
	case key.Matches(msg, m.keys.Yes):
		m.confirm = nil
		return m.startOp(opDelete, c.vm, c.force)
	case key.Matches(msg, m.keys.No):
		m.confirm = nil
		m.notice = "kept " + c.vm.Name
	}
	return m, nil
}

// startOp marks vm busy and runs o in the background.
func (m model) startOp(o op, vm api.VM, force bool) (tea.Model, tea.Cmd) {
	m.lastErr, m.notice = "", ""
	m.busy[vm.Name] = o.verb() + " " + vm.Name
	m.order = append(m.order, vm.Name)
	cmds := []tea.Cmd{opCmd(m.ctx, m.be, m.events, o, vm, force)}
	if !m.spinning {
		m.spinning = true
		cmds = append(cmds, m.spin.Tick)
	}
	return m, tea.Batch(cmds...)
}

func (m model) finishOp(msg opDoneMsg) (tea.Model, tea.Cmd) {
	delete(m.busy, msg.name)
	delete(m.progress, msg.name)
	m.hint = ""
	for i, n := range m.order {
		if n == msg.name {
			m.order = append(m.order[:i:i], m.order[i+1:]...)
			break
		}
	}
	if msg.err != nil {
		m.lastErr = fmt.Sprintf("%s %s: %v", msg.op.name(), msg.name, msg.err)
	} else {
		m.notice = msg.info
		if m.notice == "" {
			m.notice = msg.op.done() + " " + msg.name
		}
		if msg.op == opDelete && m.det.name == msg.name && m.screen == screenDetails {
			m.screen = screenList
		}
	}
	cmds := []tea.Cmd{m.refreshNow()}
	if m.screen == screenDetails && m.det.name == msg.name && !m.det.loading {
		m.det.loading = true
		cmds = append(cmds, detailsCmd(m.ctx, m.be, msg.name))
	}
	return m, tea.Batch(cmds...)
}

// current is the VM the action keys apply to: the one in the details pane,
// else the selected table row.
func (m model) current() (api.VM, bool) {
	name := ""
	if m.screen == screenDetails {
		name = m.det.name
	} else if row := m.table.SelectedRow(); row != nil {
		name = row[0]
	}
	for _, vm := range m.vms {
		if vm.Name == name {
			return vm, true
		}
	}
	return api.VM{}, false
}

// setVMs replaces the list, keeping the selection on the same VM.
func (m *model) setVMs(vms []api.VM) {
	selected := ""
	if row := m.table.SelectedRow(); row != nil {
		selected = row[0]
	}
	m.vms = vms
	m.layout()
	m.table.SetRows(rows(vms, m.now()))
	cursor := 0
	for i, vm := range vms {
		if vm.Name == selected {
			cursor = i
		}
	}
	m.table.SetCursor(cursor)
}

// layout sizes the table to the window and the current rows.
func (m *model) layout() {
	m.table.SetColumns(columns(m.vms, m.width))
	m.table.SetWidth(m.width)
	m.table.SetHeight(max(m.height-chromeLines, 2))
	m.help.Width = m.width
}

func toggle(cur, s screen) screen {
	if cur == s {
		return screenList
	}
	return s
}
