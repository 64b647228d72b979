package tui

import (
	"context"
	"fmt"
	"sort"
	"strings"
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
	at       time.Time // when the stats were read
	err      error     // GetVM failed
	statsErr error     // only Stats failed
}

// imagesMsg carries the image list.
type imagesMsg struct {
	images []api.Image
	err    error
}

// imageMsg carries one image for the image pane.
type imageMsg struct {
	image *api.Image
	err   error
}

// opDoneMsg ends a background operation.
type opDoneMsg struct {
	op   op
	name string
	info string  // success notice, e.g. "NAT on for web"
	vm   *api.VM // the VM the daemon answered with, when any
	err  error
}

// progressMsg is one streamed event of a running operation.
type progressMsg struct {
	key  string // busy key: a VM name or imageKey(name)
	text string
	step string // "2/5" for step events, else ""
}

// op is an operation the user can start.
type op int

const (
	opStart op = iota
	opStop
	opRestart
	opDelete
	opNAT
	opCreate
	opSet
	opBuild
	opDeleteImage
)

// verb is the status-line word for an operation in progress.
func (o op) verb() string {
	return [...]string{"starting", "stopping", "restarting", "deleting", "changing NAT of", "creating", "changing",
		"building image", "deleting image"}[o]
}

// done is the status-line word for a finished operation.
func (o op) done() string {
	return [...]string{"started", "stopped", "restarted", "deleted", "changed NAT of", "created", "changed",
		"built image", "deleted image"}[o]
}

// name is the imperative used in error messages.
func (o op) name() string {
	return [...]string{"start", "stop", "restart", "delete", "toggle NAT of", "create", "change",
		"build image", "delete image"}[o]
}

// imageKey is the busy key of an image operation, apart from VM names.
func imageKey(name string) string { return "image " + name }

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
		st, err := be.Status(ctx)
		if err != nil {
			return listMsg{vms: vms, err: fmt.Errorf("daemon status: %w", err)}
		}
		return listMsg{vms: vms, status: st}
	}
}

func detailsCmd(ctx context.Context, be Backend, name string, clock func() time.Time) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, detailsTimeout)
		defer cancel()
		vm, err := be.GetVM(ctx, name)
		if err != nil {
			return detailsMsg{name: name, err: err}
		}
		st, err := be.Stats(ctx, name)
		return detailsMsg{name: name, vm: vm, stats: st, at: clock(), statsErr: err}
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

func imageCmd(ctx context.Context, be Backend, name string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, listTimeout)
		defer cancel()
		im, err := be.GetImage(ctx, name)
		return imageMsg{image: im, err: err}
	}
}

// reporter returns an onEvent that forwards the events of the operation
// keyed key to events. It waits for the UI to take each event (so a build
// log loses no line) but never past the end of ctx.
func reporter(ctx context.Context, events chan<- progressMsg, key string) func(api.Event) {
	return func(e api.Event) {
		text := eventText(e)
		if text == "" {
			return
		}
		msg := progressMsg{key: key, text: text}
		if e.Kind == api.EventStep && e.Total > 0 {
			msg.step = fmt.Sprintf("%d/%d", e.Index, e.Total)
		}
		select {
		case events <- msg:
		case <-ctx.Done():
		}
	}
}

// opCmd runs o on the VM in the background.
func opCmd(ctx context.Context, be Backend, events chan<- progressMsg, o op, vm api.VM, force bool) tea.Cmd {
	name := vm.Name
	onEvent := reporter(ctx, events, name)
	return func() tea.Msg {
		var err error
		var out *api.VM
		info := ""
		switch o {
		case opStart:
			out, err = be.StartVM(ctx, name, api.StartRequest{}, onEvent)
		case opStop:
			out, err = be.StopVM(ctx, name, onEvent)
		case opRestart:
			out, err = be.RestartVM(ctx, name, api.StartRequest{}, onEvent)
		case opDelete:
			err = be.DeleteVM(ctx, name, force)
		case opNAT:
			on := !vm.NAT
			out, err = be.SetVM(ctx, name, api.SetVMRequest{NAT: &on})
			info = "NAT " + onOff(on) + " for " + name
		}
		return opDoneMsg{op: o, name: name, info: info, vm: out, err: err}
	}
}

// createCmd creates a VM; key is the name shown while it runs.
func createCmd(ctx context.Context, be Backend, events chan<- progressMsg, key string, req api.CreateVMRequest) tea.Cmd {
	onEvent := reporter(ctx, events, key)
	return func() tea.Msg {
		vm, err := be.CreateVM(ctx, req, onEvent)
		info := ""
		if err == nil {
			info = fmt.Sprintf("created %s: %s at %s; press x to ssh in", vm.Name, vm.State, dash(vm.IP))
		}
		return opDoneMsg{op: opCreate, name: key, info: info, vm: vm, err: err}
	}
}

// setCmd changes a VM's settings.
func setCmd(ctx context.Context, be Backend, name string, req api.SetVMRequest) tea.Cmd {
	return func() tea.Msg {
		vm, err := be.SetVM(ctx, name, req)
		info := ""
		if err == nil {
			info = fmt.Sprintf("%s now has %d vCPU, %s memory, %s disk, NAT %s", vm.Name, vm.VCPUs,
				humanBytes(int64(vm.MemoryMiB)<<20), humanBytes(vm.DiskSize), onOff(vm.NAT))
		}
		return opDoneMsg{op: opSet, name: name, info: info, vm: vm, err: err}
	}
}

// buildCmd builds an image; its events feed the build log.
func buildCmd(ctx context.Context, be Backend, events chan<- progressMsg, req api.BuildImageRequest) tea.Cmd {
	key := imageKey(req.Name)
	onEvent := reporter(ctx, events, key)
	return func() tea.Msg {
		im, err := be.BuildImage(ctx, req, onEvent)
		info := ""
		if err == nil {
			info = fmt.Sprintf("built image %s (%s); pick it when creating a VM", im.Name, humanBytes(im.Size))
		}
		return opDoneMsg{op: opBuild, name: key, info: info, err: err}
	}
}

// deleteImageCmd deletes an image.
func deleteImageCmd(ctx context.Context, be Backend, name string) tea.Cmd {
	return func() tea.Msg {
		err := be.DeleteImage(ctx, name)
		return opDoneMsg{op: opDeleteImage, name: imageKey(name), info: "deleted image " + name, err: err}
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

// trimImageKey turns a busy key back into the name an error talks about.
func trimImageKey(key string) string { return strings.TrimPrefix(key, "image ") }
