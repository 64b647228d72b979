package tui

import (
	"fmt"
	"strconv"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/namegen"
	"github.com/bangerdev/banger/internal/units"
)

// newVMKey is the busy key of a create whose name bangerd picks.
const newVMKey = "new VM"

// defaultImage is the image choice that leaves the pick to bangerd.
const defaultImage = "(default)"

// openCreate shows the create form. The name is generated here from
// namegen's built-in words (so its progress has a row from the start);
// clearing it lets bangerd pick one from its own word list.
func (m model) openCreate() (tea.Model, tea.Cmd) {
	name, _ := namegen.Generate(m.hasVM)
	f := &form{kind: formCreate, title: "Create VM", note: "Empty fields take bangerd's defaults (config.toml)."}
	f.fields = []field{
		textField("name", "name", name, "picked by bangerd", ""),
		{key: "image", label: "image", kind: fieldChoice, choices: m.imageChoices()},
		textField("memory", "memory", "", "default", "MiB"),
		textField("vcpus", "vCPUs", "", "default", ""),
		textField("disk", "disk", "", "default", "work disk, e.g. 16G"),
		{key: "nat", label: "NAT", kind: fieldToggle, hint: "outbound internet"},
	}
	f.setFocus(0, 1)
	m.form = f
	return m, imagesCmd(m.ctx, m.be)
}

// openSet shows the form that changes vm's settings.
func (m model) openSet(vm api.VM) (tea.Model, tea.Cmd) {
	f := &form{kind: formSet, title: "Change " + vm.Name, target: vm.Name, vm: vm}
	f.fields = []field{
		textField("memory", "memory", strconv.Itoa(vm.MemoryMiB), "", "MiB"),
		textField("vcpus", "vCPUs", strconv.Itoa(vm.VCPUs), "", ""),
		textField("disk", "disk", units.FormatSize(vm.DiskSize), "", "grow only"),
		{key: "nat", label: "NAT", kind: fieldToggle, on: vm.NAT, hint: "outbound internet"},
	}
	if vm.State == api.StateRunning {
		f.note = "Memory, vCPUs and disk change only while " + vm.Name + " is stopped; NAT any time."
		for i := range 3 {
			f.fields[i].off = "stop the VM first"
		}
	}
	f.setFocus(0, 1)
	m.form = f
	return m, nil
}

// formKey handles a key while a form is open.
func (m model) formKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	f := m.form
	switch msg.String() {
	case "esc":
		if f.submitting {
			m.notice = "still " + m.busy[formKey(f)] + " in the background"
		}
		m.form = nil
		if f.kind == formBuild && f.submitting {
			m.screen = screenBuild
		}
		return m, nil
	case "enter":
		if f.submitting {
			return m, nil
		}
		switch f.kind {
		case formCreate:
			return m.submitCreate()
		case formSet:
			return m.submitSet()
		case formBuild:
			return m.submitBuild()
		}
	}
	if f.submitting {
		return m, nil
	}
	return m, f.update(msg)
}

// formKey is the busy key of the operation a form starts.
func formKey(f *form) string {
	switch f.kind {
	case formSet:
		return f.target
	case formBuild:
		return imageKey(f.get("name").value())
	}
	if n := f.get("name").value(); n != "" {
		return n
	}
	return newVMKey
}

// checkResources checks the memory, vcpus and disk fields, marking errors.
func checkResources(f *form) (mem, vcpus int, disk int64) {
	var err error
	if mem, err = checkMemory(f.get("memory").value()); err != nil {
		f.get("memory").err = err.Error()
	}
	if vcpus, err = checkVCPUs(f.get("vcpus").value()); err != nil {
		f.get("vcpus").err = err.Error()
	}
	if disk, err = checkDisk(f.get("disk").value()); err != nil {
		f.get("disk").err = err.Error()
	}
	return mem, vcpus, disk
}

func (m model) submitCreate() (tea.Model, tea.Cmd) {
	f := m.form
	f.clearErrors()
	req := api.CreateVMRequest{Name: f.get("name").value(), NAT: f.get("nat").on}
	if err := checkName("VM", req.Name); err != nil {
		f.get("name").err = err.Error()
	} else if m.hasVM(req.Name) {
		f.get("name").err = fmt.Sprintf("a VM named %q already exists; pick another name or delete it with 'banger vm delete %s'", req.Name, req.Name)
	}
	req.MemoryMiB, req.VCPUs, req.DiskSize = checkResources(f)
	if img := f.get("image").value(); img != defaultImage {
		req.Image = img
	}
	if f.hasErrors() {
		return m, nil
	}
	f.submitting = true
	key := formKey(f)
	if req.Name != "" {
		m.pending[key] = api.VM{Name: key, State: api.StateCreating, Image: dash(req.Image), VCPUs: req.VCPUs,
			MemoryMiB: req.MemoryMiB, DiskSize: req.DiskSize, NAT: req.NAT, CreatedAt: m.now()}
	}
	m, cmd := m.startBusy(key, "creating "+key, createCmd(m.ctx, m.be, m.events, key, req))
	m.relist()
	return m, cmd
}

func (m model) submitSet() (tea.Model, tea.Cmd) {
	f := m.form
	f.clearErrors()
	vm := f.vm
	var req api.SetVMRequest
	mem, vcpus, disk := checkResources(f)
	if f.hasErrors() {
		return m, nil
	}
	if mem != 0 && mem != vm.MemoryMiB {
		req.MemoryMiB = &mem
	}
	if vcpus != 0 && vcpus != vm.VCPUs {
		req.VCPUs = &vcpus
	}
	if disk != 0 && disk != vm.DiskSize {
		req.DiskSize = &disk
	}
	if on := f.get("nat").on; on != vm.NAT {
		req.NAT = &on
	}
	if req == (api.SetVMRequest{}) {
		f.err = "nothing to change: edit a field, or press esc to leave " + vm.Name + " as it is"
		return m, nil
	}
	if text, ok := m.busy[vm.Name]; ok {
		f.err = fmt.Sprintf("%s is busy (%s): wait for it to finish", vm.Name, text)
		return m, nil
	}
	f.submitting = true
	return m.startBusy(vm.Name, "changing "+vm.Name, setCmd(m.ctx, m.be, vm.Name, req))
}

// hasVM reports whether a VM (or a create in flight) is named name.
func (m model) hasVM(name string) bool {
	for _, vm := range m.allVMs() {
		if vm.Name == name {
			return true
		}
	}
	return false
}

// imageChoices lists images for the picker, bundle images first.
func (m model) imageChoices() []string {
	// "default" (what bangerd boots when no image is named) comes first,
	// so the form preselects it; then the other built-in images, then
	// the user's.
	var builtin, built []string
	for _, im := range m.images {
		if im.Name == "default" {
			builtin = append([]string{im.Name}, builtin...)
		} else if im.Builtin {
			builtin = append(builtin, im.Name)
		} else {
			built = append(built, im.Name)
		}
	}
	out := append(builtin, built...)
	if len(out) == 0 {
		return []string{defaultImage}
	}
	return out
}

// refreshChoices updates an open create form's image picker, keeping the
// picked image.
func (m *model) refreshChoices() {
	f := m.form
	if f == nil || f.kind != formCreate {
		return
	}
	fl := f.get("image")
	cur := fl.value()
	fl.choices = m.imageChoices()
	fl.choice = 0
	for i, c := range fl.choices {
		if c == cur {
			fl.choice = i
		}
	}
}
