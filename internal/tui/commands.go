package tui

import (
	"context"
	"fmt"
	"sort"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/bangerdev/banger/internal/api"
)

// Timeouts of the read-only calls; long operations only end with the
// program's context.
const (
	listTimeout    = 10 * time.Second
	detailsTimeout = 20 * time.Second
)

// tickMsg asks for the periodic refresh.
type tickMsg struct{}

// listMsg carries a reloaded VM list and daemon status.
type listMsg struct {
	vms    []api.VM
	status *api.DaemonStatus
	err    error
}

// detailsMsg carries GetVM and Stats of one VM.
type detailsMsg struct {
	name     string
	vm       *api.VM
	stats    *api.VMStats
	err      error // GetVM failed
	statsErr error // only Stats failed
}

// imagesMsg carries the image list.
type imagesMsg struct {
	images []api.Image
	err    error
}

// opDoneMsg ends a background operation on a VM.
type opDoneMsg struct {
	op   op
	name string
	info string // success notice, e.g. "NAT on for web"
	err  error
}

// progressMsg is one streamed event of a running operation.
type progressMsg struct {
	name string
	text string
}

// op is a VM operation the user can start.
type op int

const (
	opStart op = iota
	opStop
	opRestart
	opDelete
	opNAT
)

// verb is the status-line word for an operation in progress.
func (o op) verb() string {
	return [...]string{"starting", "stopping", "restarting", "deleting", "changing NAT of"}[o]
}

// done is the status-line word for a finished operation.
func (o op) done() string {
	return [...]string{"started", "stopped", "restarted", "deleted", "changed NAT of"}[o]
}

// name is the imperative used in error messages.
func (o op) name() string {
	return [...]string{"start", "stop", "restart", "delete", "toggle NAT of"}[o]
}

func tickCmd(d time.Duration) tea.Cmd {
	return tea.Tick(d, func(time.Time) tea.Msg { return tickMsg{} })
}

func refreshCmd(ctx context.Context, be Backend) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, listTimeout)
		defer cancel()
		vms, err := be.ListVMs(ctx)
		if err != nil {
			return listMsg{err: fmt.Errorf("list VMs: %w", err)}
		}
		sort.Slice(vms, func(i, j int) bool { return vms[i].Name < vms[j].Name })
		st, err := be.Status(ctx)
		if err != nil {
			return listMsg{vms: vms, err: fmt.Errorf("daemon status: %w", err)}
		}
		return listMsg{vms: vms, status: st}
	}
}

func detailsCmd(ctx context.Context, be Backend, name string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, detailsTimeout)
		defer cancel()
		vm, err := be.GetVM(ctx, name)
		if err != nil {
			return detailsMsg{name: name, err: err}
		}
		st, err := be.Stats(ctx, name)
		return detailsMsg{name: name, vm: vm, stats: st, statsErr: err}
	}
}

func imagesCmd(ctx context.Context, be Backend) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, listTimeout)
		defer cancel()
		ims, err := be.ListImages(ctx)
		sort.Slice(ims, func(i, j int) bool { return ims[i].Name < ims[j].Name })
		return imagesMsg{images: ims, err: err}
	}
}

// opCmd runs o on the VM in the background; streamed progress goes to
// events without ever blocking the operation.
func opCmd(ctx context.Context, be Backend, events chan<- progressMsg, o op, vm api.VM, force bool) tea.Cmd {
	name := vm.Name
	onEvent := func(e api.Event) {
		text := eventText(e)
		if text == "" {
			return
		}
		select {
		case events <- progressMsg{name: name, text: text}:
		default:
		}
	}
	return func() tea.Msg {
		var err error
		info := ""
		switch o {
		case opStart:
			_, err = be.StartVM(ctx, name, api.StartRequest{}, onEvent)
		case opStop:
			_, err = be.StopVM(ctx, name, onEvent)
		case opRestart:
			_, err = be.RestartVM(ctx, name, api.StartRequest{}, onEvent)
		case opDelete:
			err = be.DeleteVM(ctx, name, force)
		case opNAT:
			on := !vm.NAT
			_, err = be.SetVM(ctx, name, api.SetVMRequest{NAT: &on})
			info = "NAT " + onOff(on) + " for " + name
		}
		return opDoneMsg{op: o, name: name, info: info, err: err}
	}
}

// listenCmd waits for the next progress event.
func listenCmd(ctx context.Context, events <-chan progressMsg) tea.Cmd {
	return func() tea.Msg {
		select {
		case ev := <-events:
			return ev
		case <-ctx.Done():
			return nil
		}
	}
}

// eventText is the status-line text of one streamed event.
func eventText(e api.Event) string {
	switch e.Kind {
	case api.EventStep:
		if e.Total > 0 {
			return fmt.Sprintf("[%d/%d] %s", e.Index, e.Total, e.Step)
		}
		return e.Step
	case api.EventProgress:
		if e.Size > 0 {
			return fmt.Sprintf("%s %d%%", e.Step, e.Done*100/e.Size)
		}
		return e.Step
	case api.EventLog:
		return e.Message
	}
	return ""
}
