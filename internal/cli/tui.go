package cli

import (
	"context"
	"errors"
	"os/exec"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/tui"
)

func newTUICmd(e *Env, runF func(*NoArgsOptions) error) *cobra.Command {
	return noArgsCmd("tui", "Interactive terminal UI for your VMs", func(cmd *cobra.Command) error {
		return runWith(cmd, e, &NoArgsOptions{}, runF, tuiRun)
	})
}

func tuiRun(ctx context.Context, e *Env, _ *NoArgsOptions) error {
	b, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	return tui.Run(ctx, b, tui.Options{
		OnSSH: func(name string) error { return e.execSelf(ctx, "vm", "ssh", name) },
	})
}

// execSelf runs banger again with args, passing the terminal through.
func (e *Env) execSelf(ctx context.Context, args ...string) error {
	full := args
	if e.Socket != "" {
		full = append([]string{"--socket", e.Socket}, args...)
	}
	return e.runAttached(ctx, e.Exe, full...)
}

// runAttached runs a program on the CLI's own terminal streams; its exit
// status becomes an *ExitError so banger exits with the same code.
func (e *Env) runAttached(ctx context.Context, path string, args ...string) error {
	c := exec.CommandContext(ctx, path, args...)
	c.Stdin, c.Stdout, c.Stderr = e.In, e.Out, e.Err
	if err := c.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return &ExitError{Code: ee.ExitCode()}
		}
		return err
	}
	return nil
}
