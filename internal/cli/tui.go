package cli

import (
	"context"
	"errors"
	"os/exec"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/tui"
)

func newTUICmd(e *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "tui",
		Short: "Interactive terminal UI for your VMs",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.Connect(cmd.Context())
			if err != nil {
				return err
			}
			return tui.Run(cmd.Context(), c, tui.Options{
				OnSSH: func(name string) error { return e.execSelf(cmd.Context(), "vm", "ssh", name) },
			})
		},
	}
}

// execSelf runs banger again with args, passing the terminal through.
func (e *Env) execSelf(ctx context.Context, args ...string) error {
	full := args
	if e.Socket != "" {
		full = append([]string{"--socket", e.Socket}, args...)
	}
	c := exec.CommandContext(ctx, e.Exe, full...)
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
