package tui

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/bangerdev/banger/internal/api"
)

// listKey handles a key on the VM list or the details pane.
func (m model) listKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Images):
		return m.openImages()
	case key.Matches(msg, k.Create):
		return m.openCreate()
	case key.Matches(msg, k.Back):
		if m.screen == screenDetails {
			m.screen = screenList
		} else {
			m.filter.SetValue("")
			m.marked = map[string]bool{}
			m.relist()
		}
		return m, nil
	}
	if m.screen == screenList {
		switch {
		case key.Matches(msg, k.Filter):
			m.filtering = true
			return m, m.filter.Focus()
		case key.Matches(msg, k.Sort):
			m.sortCol = (m.sortCol + 1) % len(titles)
			m.relist()
			return m, nil
		case key.Matches(msg, k.Reverse):
			m.sortDesc = !m.sortDesc
			m.relist()
			return m, nil
		case key.Matches(msg, k.Mark):
			if vm, ok := m.current(); ok {
				m.marked[vm.Name] = !m.marked[vm.Name]
				if !m.marked[vm.Name] {
					delete(m.marked, vm.Name)
				}
				m.list.move(1)
			}
			return m, nil
		case key.Matches(msg, k.Up):
			m.list.move(-1)
		case key.Matches(msg, k.Down):
			m.list.move(1)
		case key.Matches(msg, k.Top):
			m.list.setCursor(0)
		case key.Matches(msg, k.Bottom):
			m.list.setCursor(len(m.visible) - 1)
		case key.Matches(msg, k.PageUp):
			m.list.move(-m.list.height)
		case key.Matches(msg, k.PageDown):
			m.list.move(m.list.height)
		}
	}
	vm, ok := m.current()
	switch {
	case key.Matches(msg, k.Details):
		if !ok || m.screen == screenDetails {
			return m, nil
		}
		m.screen = screenDetails
		m.det = details{name: vm.Name, loading: true}
		return m, detailsCmd(m.ctx, m.be, vm.Name, m.clock)
	case key.Matches(msg, k.Start, k.Stop, k.Restart, k.NAT, k.Delete, k.SSH, k.Console, k.Edit):
		if targets := m.markedVMs(); len(targets) > 0 && m.screen == screenList &&
			key.Matches(msg, k.Start, k.Stop, k.Delete) {
			return m.handleMany(msg, targets)
		}
		if !ok {
			m.hint = "no VM selected: press c to create one"
			return m, nil
		}
		return m.handleAction(msg, vm)
	}
	return m, nil
}

// filterKey edits the filter; enter keeps it, esc drops it.
func (m model) filterKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch msg.String() {
	case "enter":
		m.filtering = false
		m.filter.Blur()
		return m, nil
	case "esc":
		m.filtering = false
		m.filter.Blur()
		m.filter.SetValue("")
		m.relist()
		return m, nil
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(msg)
	m.relist()
	m.list.setCursor(0)
	return m, cmd
}

func (m model) handleAction(msg tea.KeyMsg, vm api.VM) (tea.Model, tea.Cmd) {
	k := m.keys
	switch {
	case key.Matches(msg, k.SSH):
		if vm.State != api.StateRunning {
			m.hint = fmt.Sprintf("cannot ssh into %s: it is %s; press s to start it", vm.Name, vm.State)
			return m, nil
		}
		m.sshTarget = vm.Name
		m.quitting = true
		return m, tea.Quit
	case key.Matches(msg, k.Console):
		return m.openConsole(vm)
	}
	if text, ok := m.busy[vm.Name]; ok {
		m.hint = fmt.Sprintf("%s is busy (%s): wait for it to finish", vm.Name, text)
		return m, nil
	}
	switch {
	case key.Matches(msg, k.Edit):
		return m.openSet(vm)
	case key.Matches(msg, k.Delete):
		m.confirm = &confirmation{vms: []api.VM{vm}, force: vm.State == api.StateRunning || vm.State == api.StateCreating}
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

// handleMany starts, stops or deletes every marked VM that is not busy.
func (m model) handleMany(msg tea.KeyMsg, vms []api.VM) (tea.Model, tea.Cmd) {
	var free []api.VM
	force := false
	for _, vm := range vms {
		if _, busy := m.busy[vm.Name]; !busy {
			free = append(free, vm)
			force = force || vm.State == api.StateRunning || vm.State == api.StateCreating
		}
	}
	if len(free) == 0 {
		m.hint = "every selected VM is busy: wait for them to finish"
		return m, nil
	}
	if key.Matches(msg, m.keys.Delete) {
		m.confirm = &confirmation{vms: free, force: force}
		return m, nil
	}
	o := opStart
	if key.Matches(msg, m.keys.Stop) {
		o = opStop
	}
	var cmds []tea.Cmd
	for _, vm := range free {
		var cmd tea.Cmd
		m, cmd = m.startOp(o, vm, false)
		cmds = append(cmds, cmd)
	}
	m.marked = map[string]bool{}
	return m, tea.Batch(cmds...)
}

// markedVMs returns the marked VMs that still exist, in list order.
func (m model) markedVMs() []api.VM {
	var out []api.VM
	for _, vm := range m.visible {
		if m.marked[vm.Name] {
			out = append(out, vm)
		}
	}
	return out
}

// current is the VM the action keys apply to: the one in the details pane,
// else the list's cursor row.
func (m model) current() (api.VM, bool) {
	name := ""
	if m.screen == screenDetails {
		name = m.det.name
	} else if row := m.list.selected(); row != nil {
		name = row[0]
	}
	for _, vm := range m.allVMs() {
		if vm.Name == name {
			return vm, true
		}
	}
	return api.VM{}, false
}

// allVMs is the daemon's list plus creates it does not list yet.
func (m model) allVMs() []api.VM {
	out := slices.Clone(m.vms)
	for name, vm := range m.pending {
		if !slices.ContainsFunc(out, func(v api.VM) bool { return v.Name == name }) {
			out = append(out, vm)
		}
	}
	return out
}

// relist filters and sorts the VMs into the list, keeping the cursor on
// the same VM.
func (m *model) relist() {
	selected := ""
	if row := m.list.selected(); row != nil {
		selected = row[0]
	}
	q := strings.ToLower(strings.TrimSpace(m.filter.Value()))
	m.visible = nil
	for _, vm := range m.allVMs() {
		if q == "" || strings.Contains(strings.ToLower(strings.Join([]string{vm.Name, vm.State, vm.Image, vm.IP}, " ")), q) {
			m.visible = append(m.visible, vm)
		}
	}
	slices.SortStableFunc(m.visible, func(a, b api.VM) int {
		c := compareVMs(a, b, m.sortCol)
		if c == 0 {
			c = cmp.Compare(a.Name, b.Name)
		} else if m.sortDesc {
			c = -c
		}
		return c
	})
	rows := m.rows(m.visible)
	hdr := slices.Clone(titles)
	hdr[m.sortCol] += map[bool]string{false: "↑", true: "↓"}[m.sortDesc]
	m.list.cols = fitColumns(hdr, rows, m.width, colName, colImage)
	m.list.cols[colName].width = min(m.list.cols[colName].width, 24)
	m.list.cols[colImage].width = min(m.list.cols[colImage].width, 20)
	m.list.setRows(rows)
	m.selectVM(selected)
}

// selectVM puts the list cursor on name when it is listed.
func (m *model) selectVM(name string) {
	for i, vm := range m.visible {
		if vm.Name == name {
			m.list.setCursor(i)
		}
	}
}

// compareVMs orders two VMs by the column col of the list.
func compareVMs(a, b api.VM, col int) int {
	switch titles[col] {
	case "STATE":
		return cmp.Compare(a.State, b.State)
	case "IMAGE":
		return cmp.Compare(a.Image, b.Image)
	case "IP":
		x, _ := netip.ParseAddr(a.IP)
		y, _ := netip.ParseAddr(b.IP)
		return x.Compare(y)
	case "VCPU":
		return cmp.Compare(a.VCPUs, b.VCPUs)
	case "MEMORY":
		return cmp.Compare(a.MemoryMiB, b.MemoryMiB)
	case "DISK":
		return cmp.Compare(a.DiskSize, b.DiskSize)
	case "NAT":
		return cmp.Compare(onOff(a.NAT), onOff(b.NAT))
	case "AGE":
		return b.CreatedAt.Compare(a.CreatedAt)
	}
	return cmp.Compare(a.Name, b.Name)
}

// joinNames lists VM names for a question or notice.
func joinNames(vms []api.VM) string {
	names := make([]string, len(vms))
	for i, vm := range vms {
		names[i] = vm.Name
	}
	return strings.Join(names, ", ")
}
