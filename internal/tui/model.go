package tui

import (
	"context"
	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
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
	screenConsole
	screenImage
	screenBuild
)

// confirmation is a pending y/n question: delete VMs or an image.
type confirmation struct {
	vms   []api.VM
	force bool
	image string
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
	now     func() time.Time // ages
	clock   func() time.Time // stats sample times (network rates)
	keys    keyMap

	width, height int
	screen        screen
	back          screen // where esc and ? return to from help
	list          grid
	spin          spinner.Model
	spinning      bool
	help          help.Model

	vms        []api.VM
	visible    []api.VM // vms filtered and sorted, as the list shows them
	status     *api.DaemonStatus
	loaded     bool
	refreshing bool
	refreshErr error

	filter    textinput.Model
	filtering bool
	sortCol   int
	sortDesc  bool
	marked    map[string]bool

	det  details
	hist map[string]*series

	images     []api.Image
	imagesErr  error
	imagesDone bool
	imgList    grid
	img        imageMsg
	build      *buildLog

	con  *console
	form *form

	busy     map[string]string // busy key -> operation, e.g. "stopping web"
	progress map[string]string // busy key -> last streamed event
	steps    map[string]string // busy key -> "2/5" of the last step
	pending  map[string]api.VM // creates the daemon has not listed yet
	order    []string          // busy keys, oldest first
	events   chan progressMsg
	notice   string
	lastErr  string // last failed backend operation, kept until the next one starts
	hint     string // why the last key did nothing; cleared by the next key
	confirm  *confirmation
	quitting bool

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
	f := textinput.New()
	f.Prompt = "/"
	f.Placeholder = "name, state, image or IP"
	m := model{
		ctx: ctx, be: be, refresh: opts.Refresh, now: opts.Now, clock: time.Now, keys: keys,
		width: 80, height: 24,
		spin: spinner.New(spinner.WithSpinner(spinner.Dot)), help: help.New(),
		filter:   f,
		marked:   map[string]bool{},
		hist:     map[string]*series{},
		busy:     map[string]string{},
		progress: map[string]string{},
		steps:    map[string]string{},
		pending:  map[string]api.VM{},
		events:   make(chan progressMsg, 64),
	}
	m.layout()
	return m
}

// Init loads the list and starts the refresh ticker and event listener.
func (m model) Init() tea.Cmd {
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
			cmds = append(cmds, detailsCmd(m.ctx, m.be, m.det.name, m.clock))
		}
		return m, tea.Batch(cmds...)
	case listMsg:
		m.refreshing = false
		m.refreshErr = msg.err
		if msg.vms != nil || msg.err == nil {
			m.vms = msg.vms
			for _, vm := range msg.vms {
				if _, busy := m.busy[vm.Name]; !busy {
					delete(m.pending, vm.Name)
				}
			}
			m.loaded = true
			m.relist()
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
			if msg.stats != nil {
				m.record(msg.name, msg.at, msg.stats)
			}
		}
		return m, nil
	case imagesMsg:
		return m.gotImages(msg), nil
	case imageMsg:
		m.img = msg
		return m, nil
	case progressMsg:
		return m.gotProgress(msg)
	case consoleOpenMsg:
		return m.consoleOpened(msg)
	case consoleDataMsg:
		return m.consoleData(msg)
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
		m.quitting = true
		return m, tea.Quit
	}
	switch {
	case m.form != nil:
		return m.formKey(msg)
	case m.confirm != nil:
		return m.handleConfirm(msg)
	case m.filtering:
		return m.filterKey(msg)
	case m.screen == screenConsole && m.con != nil && m.con.searching:
		return m.searchKey(msg)
	}
	m.hint = ""
	k := m.keys
	switch {
	case key.Matches(msg, k.Quit):
		m.quitting = true
		return m, tea.Quit
	case key.Matches(msg, k.Help):
		if m.screen == screenHelp {
			m.screen = m.back
		} else {
			m.back, m.screen = m.screen, screenHelp
		}
		return m, nil
	}
	switch m.screen {
	case screenHelp:
		if key.Matches(msg, k.Back) {
			m.screen = m.back
		}
		return m, nil
	case screenConsole:
		return m.consoleKey(msg)
	case screenImages, screenImage, screenBuild:
		return m.imagesKey(msg)
	}
	return m.listKey(msg)
}

// handleKeys handles letters that reached the program in one read (fast
// typing, key repeat, tmux send-keys) one by one, up to a key that quits.
func (m model) handleKeys(runes []rune) (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	for _, r := range runes {
		msg := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}}
		if r == ' ' {
			msg = tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{r}}
		}
		next, cmd := m.handleKey(msg)
		m = next.(model)
		cmds = append(cmds, cmd)
		if m.sshTarget != "" || m.quitting {
			break
		}
	}
	return m, tea.Batch(cmds...)
}

func (m model) handleConfirm(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	c := m.confirm
	switch {
	case key.Matches(msg, m.keys.Yes):
		m.confirm = nil
		if c.image != "" {
			return m.startImageDelete(c.image)
		}
		var cmds []tea.Cmd
		for _, vm := range c.vms {
			var cmd tea.Cmd
			m, cmd = m.startOp(opDelete, vm, c.force)
			cmds = append(cmds, cmd)
		}
		m.marked = map[string]bool{}
		return m, tea.Batch(cmds...)
	case key.Matches(msg, m.keys.No):
		m.confirm = nil
		m.notice = "kept " + c.subject()
	}
	return m, nil
}

// subject names what a confirmation is about.
func (c *confirmation) subject() string {
	if c.image != "" {
		return "image " + c.image
	}
	return joinNames(c.vms)
}

// startBusy marks key busy with text and starts the spinner.
func (m model) startBusy(key, text string, cmd tea.Cmd) (model, tea.Cmd) {
	m.lastErr, m.notice = "", ""
	m.busy[key] = text
	m.order = append(m.order, key)
	cmds := []tea.Cmd{cmd}
	if !m.spinning {
		m.spinning = true
		cmds = append(cmds, m.spin.Tick)
	}
	return m, tea.Batch(cmds...)
}

// startOp marks vm busy and runs o in the background.
func (m model) startOp(o op, vm api.VM, force bool) (model, tea.Cmd) {
	return m.startBusy(vm.Name, o.verb()+" "+vm.Name, opCmd(m.ctx, m.be, m.events, o, vm, force))
}

// gotProgress records a streamed event; the first event of a create
// closes its form (the daemon accepted it).
func (m model) gotProgress(msg progressMsg) (tea.Model, tea.Cmd) {
	if _, ok := m.busy[msg.key]; ok {
		m.progress[msg.key] = msg.text
		if msg.step != "" {
			m.steps[msg.key] = msg.step
		}
		if m.build != nil && imageKey(m.build.name) == msg.key {
			m.build.add(msg.text)
		}
		m.relist()
		if f := m.form; f != nil && f.submitting && formKey(f) == msg.key {
			m.form = nil
			if f.kind == formBuild {
				m.screen = screenBuild
			} else {
				m.selectVM(msg.key)
			}
		}
	}
	return m, listenCmd(m.ctx, m.events)
}

func (m model) finishOp(msg opDoneMsg) (tea.Model, tea.Cmd) {
	delete(m.busy, msg.name)
	delete(m.progress, msg.name)
	delete(m.steps, msg.name)
	if msg.err != nil || msg.vm == nil {
		delete(m.pending, msg.name)
	} else if _, ok := m.pending[msg.name]; ok {
		m.pending[msg.name] = *msg.vm // until the next list has it
	}
	m.hint = ""
	for i, n := range m.order {
		if n == msg.name {
			m.order = append(m.order[:i:i], m.order[i+1:]...)
			break
		}
	}
	cmds := []tea.Cmd{m.refreshNow()}
	if f := m.form; f != nil && f.submitting && formKey(f) == msg.name {
		f.submitting = false
		if msg.err != nil {
			f.placeDaemonError(msg.err.Error(), fieldOf)
			m.relist()
			return m, tea.Batch(cmds...)
		}
		m.form = nil
	}
	switch {
	case msg.err != nil:
		m.lastErr = fmt.Sprintf("%s %s: %v", msg.op.name(), trimImageKey(msg.name), msg.err)
	default:
		m.notice = msg.info
		if m.notice == "" {
			m.notice = msg.op.done() + " " + msg.name
		}
		if msg.op == opDelete && m.det.name == msg.name && m.screen == screenDetails {
			m.screen = screenList
		}
	}
	switch msg.op {
	case opBuild:
		if m.build != nil && imageKey(m.build.name) == msg.name {
			m.build.finish(msg.err)
		}
		cmds = append(cmds, imagesCmd(m.ctx, m.be))
	case opDeleteImage:
		cmds = append(cmds, imagesCmd(m.ctx, m.be))
		if msg.err == nil && m.screen == screenImage {
			m.screen = screenImages
		}
	case opCreate:
		if msg.vm != nil {
			m.selectVM(msg.vm.Name)
		}
	}
	m.relist()
	if m.screen == screenDetails && m.det.name == msg.name && !m.det.loading {
		m.det.loading = true
		cmds = append(cmds, detailsCmd(m.ctx, m.be, msg.name, m.clock))
	}
	return m, tea.Batch(cmds...)
}

// layout sizes the lists to the window.
func (m *model) layout() {
	m.list.height = max(m.height-chromeLines-1, 1)
	m.imgList.height = max(m.height-chromeLines-3, 1)
	m.help.Width = m.width
	m.filter.Width = max(m.width-20, 10)
	m.relist()
	m.layoutConsole()
	m.layoutBuild()
}
