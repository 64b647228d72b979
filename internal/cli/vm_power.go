package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/api/client"
)

// vmAction builds a one-argument verb whose run returns the changed VM.
func vmAction(e *Env, use, short string, run func(ctx context.Context, c *client.Client, name string) (*api.VM, error), done string) *cobra.Command {
	return &cobra.Command{
		Use:   use + " NAME",
		Short: short,
		Args:  exactArgs(1, "a VM name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.Connect(cmd.Context())
			if err != nil {
				return err
			}
			vm, err := run(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			return e.render(vm, func(w io.Writer) error {
				fmt.Fprintf(w, "%s %s (%s)\n", vm.Name, done, vm.State)
				return nil
			})
		},
	}
}

func newVMStartCmd(e *Env) *cobra.Command {
	var noWait, cold bool
	cmd := vmAction(e, "start", "Boot a stopped VM, or resume a suspended one", func(ctx context.Context, c *client.Client, name string) (*api.VM, error) {
		return c.StartVM(ctx, name, api.StartRequest{NoWait: noWait, Cold: cold}, e.progressPrinter())
	}, "started")
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "do not wait for SSH")
	cmd.Flags().BoolVar(&cold, "cold", false, "discard a suspended VM's saved state and boot it afresh")
	return cmd
}

func newVMStopCmd(e *Env) *cobra.Command {
	return vmAction(e, "stop", "Power a VM off gracefully (forced after stop_timeout)", func(ctx context.Context, c *client.Client, name string) (*api.VM, error) {
		return c.StopVM(ctx, name, e.progressPrinter())
	}, "stopped")
}

func newVMRestartCmd(e *Env) *cobra.Command {
	var noWait bool
	cmd := vmAction(e, "restart", "Stop and start a VM", func(ctx context.Context, c *client.Client, name string) (*api.VM, error) {
		return c.RestartVM(ctx, name, api.StartRequest{NoWait: noWait}, e.progressPrinter())
	}, "restarted")
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "do not wait for SSH")
	return cmd
}

func newVMKillCmd(e *Env) *cobra.Command {
	var sig string
	cmd := vmAction(e, "kill", "Send a signal to a VM's VMM process (default KILL)", func(ctx context.Context, c *client.Client, name string) (*api.VM, error) {
		return c.KillVM(ctx, name, strings.ToUpper(sig))
	}, "signalled")
	cmd.Flags().StringVarP(&sig, "signal", "s", "KILL", "signal name or number, e.g. TERM, KILL, 15")
	return cmd
}

// DeleteOptions are the flags of `banger vm delete`.
type DeleteOptions struct {
	Names []string
	Force bool
}

func newVMDeleteCmd(e *Env, runF func(*DeleteOptions) error) *cobra.Command {
	o := &DeleteOptions{}
	cmd := &cobra.Command{
		Use:     "delete NAME...",
		Aliases: []string{"rm"},
		Short:   "Delete VMs and all their files (refuses a running VM without --force)",
		Args:    atLeastOneVM,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Names = args
			if runF != nil {
				return runF(o)
			}
			c, err := e.Connect(cmd.Context())
			if err != nil {
				return err
			}
			for _, n := range o.Names {
				if err := c.DeleteVM(cmd.Context(), n, o.Force); err != nil {
					return err
				}
				if e.Output != "json" {
					fmt.Fprintf(e.Out, "%s deleted\n", n)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&o.Force, "force", "f", false, "stop a running VM first")
	return cmd
}

func newVMLogsCmd(e *Env) *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Print a VM's serial console",
		Args:  exactArgs(1, "a VM name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.Connect(cmd.Context())
			if err != nil {
				return err
			}
			rc, err := c.Logs(cmd.Context(), args[0], follow)
			if err != nil {
				return err
			}
			defer rc.Close()
			_, err = io.Copy(e.Out, rc)
			if cmd.Context().Err() != nil {
				return nil
			}
			return err
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new console output")
	return cmd
}
