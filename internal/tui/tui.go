// Package tui is `banger tui`: a full-screen terminal view of the daemon's
// VMs and images built on bubbletea. It is a thin client: every action is a
// call on a Backend (the typed API client in production, an in-memory fake
// in tests), and it never touches host resources itself.
package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/api/client"
)

// Backend is the part of the daemon API the TUI uses. *client.Client
// satisfies it; tests use an in-memory fake.
type Backend interface {
	// Status returns the daemon status (version, VMM, counts).
	Status(ctx context.Context) (*api.DaemonStatus, error)
	// ListVMs returns every VM.
	ListVMs(ctx context.Context) ([]api.VM, error)
	// GetVM returns one VM.
	GetVM(ctx context.Context, name string) (*api.VM, error)
	// Stats returns host and guest statistics of a VM.
	Stats(ctx context.Context, name string) (*api.VMStats, error)
	// StartVM boots a stopped VM, reporting progress to onEvent.
	StartVM(ctx context.Context, name string, req api.StartRequest, onEvent func(api.Event)) (*api.VM, error)
	// StopVM powers a VM off gracefully, reporting progress to onEvent.
	StopVM(ctx context.Context, name string, onEvent func(api.Event)) (*api.VM, error)
	// RestartVM stops and starts a VM, reporting progress to onEvent.
	RestartVM(ctx context.Context, name string, req api.StartRequest, onEvent func(api.Event)) (*api.VM, error)
	// DeleteVM removes a VM; force stops a running one first.
	DeleteVM(ctx context.Context, name string, force bool) error
	// CreateVM creates and boots a VM, reporting progress to onEvent.
	CreateVM(ctx context.Context, req api.CreateVMRequest, onEvent func(api.Event)) (*api.VM, error)
	// SetVM changes a VM's settings (memory, vCPUs, disk, NAT).
	SetVM(ctx context.Context, name string, req api.SetVMRequest) (*api.VM, error)
	// Logs returns the VM's serial console; with follow it stays open and
	// delivers new output until ctx ends.
	Logs(ctx context.Context, name string, follow bool) (io.ReadCloser, error)
	// ListImages returns every image.
	ListImages(ctx context.Context) ([]api.Image, error)
	// GetImage returns one image.
	GetImage(ctx context.Context, name string) (*api.Image, error)
	// BuildImage builds an image, reporting progress to onEvent.
	BuildImage(ctx context.Context, req api.BuildImageRequest, onEvent func(api.Event)) (*api.Image, error)
	// DeleteImage removes an image no VM uses.
	DeleteImage(ctx context.Context, name string) error
}

var _ Backend = (*client.Client)(nil)

// DefaultRefresh is how often the VM list is reloaded when
// Options.Refresh is zero.
const DefaultRefresh = 2 * time.Second

// Options tunes Run. The zero value is ready to use.
type Options struct {
	// Refresh is the auto-refresh period; zero means DefaultRefresh.
	Refresh time.Duration
	// Input and Output replace the terminal (stdin/stdout) when set.
	Input  io.Reader
	Output io.Writer
	// NoAltScreen keeps the TUI in the normal screen buffer.
	NoAltScreen bool
	// OnSSH is called after the TUI has quit and restored the terminal when
	// the user pressed x on a VM; it receives the VM name and typically
	// execs `banger vm ssh NAME`. Its error is returned by Run. When nil,
	// the x key is disabled.
	OnSSH func(name string) error
	// Now returns the current time (VM ages); nil means time.Now.
	Now func() time.Time
}

// Result is what the user chose when the TUI quit.
type Result struct {
	// SSH is the VM name to open an SSH session to, or "" for a plain quit.
	SSH string
}

// Run shows the TUI until the user quits or ctx is cancelled. When the user
// asked for an SSH session (x), opts.OnSSH runs after the terminal is
// restored and its error is returned.
func Run(ctx context.Context, c Backend, opts Options) error {
	res, err := run(ctx, c, opts, opts.OnSSH != nil)
	if err != nil {
		return err
	}
	if res.SSH != "" && opts.OnSSH != nil {
		return opts.OnSSH(res.SSH)
	}
	return nil
}

// RunResult is Run without the OnSSH step: it returns what the user chose.
// The x key is enabled whatever opts.OnSSH is.
func RunResult(ctx context.Context, c Backend, opts Options) (Result, error) {
	return run(ctx, c, opts, true)
}

func run(ctx context.Context, c Backend, opts Options, sshEnabled bool) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if os.Getenv("NO_COLOR") != "" {
		// https://no-color.org: no colour, and no other styling either;
		// every cue is also given in text.
		lipgloss.SetColorProfile(termenv.Ascii)
	}
	popts := []tea.ProgramOption{tea.WithContext(ctx)}
	if !opts.NoAltScreen {
		popts = append(popts, tea.WithAltScreen())
	}
	if opts.Input != nil {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
	}
	final, err := tea.NewProgram(newModel(ctx, c, opts, sshEnabled), popts...).Run()
	if err != nil {
		if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		return Result{}, fmt.Errorf("tui: %w", err)
	}
	m, ok := final.(model)
	if !ok {
		return Result{}, nil
	}
	return Result{SSH: m.sshTarget}, nil
}
