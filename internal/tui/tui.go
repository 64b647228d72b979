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

	"github.com/bangerdev/banger/internal/backend"
)

// Backend is the part of the daemon API the TUI uses. *client.Client
// satisfies it; tests use an in-memory fake.
type Backend = backend.Manager

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
