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
				if use == "start" || use == "restart" {
					printBootTimings(w, vm)
				}
				return nil
			})
		},
	}
}

func newVMStartCmd(e *Env) *cobra.Command {
	var noWait bool
	cmd := vmAction(e, "start", "Boot a stopped VM", func(ctx context.Context, c *client.Client, name string) (*api.VM, error) {
		return c.StartVM(ctx, name, api.StartRequest{NoWait: noWait}, e.progressPrinter())
	}, "started")
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "do not wait for SSH")
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
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("%s expects at least one VM name; see '%s --help'", cmd.CommandPath(), cmd.CommandPath())
			}
			return nil
		},
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

// printBootTimings prints how long the start that just finished took and
// where the time went, when it waited for SSH.
func printBootTimings(w io.Writer, vm *api.VM) {
	t := vm.BootTimings
	if t == nil || t.GuestMS == 0 {
		return
	}
	fmt.Fprintf(w, "ready in %s (host %s, guest boot %s, SSH check %s)\n",
		formatMS(t.TotalMS), formatMS(t.HostMS), formatMS(t.GuestMS), formatMS(t.ReadyMS))
}

// formatMS renders milliseconds for people: "40 ms", "9.8 s".
func formatMS(ms int64) string {
	if ms < 1000 {
		return fmt.Sprintf("%d ms", ms)
	}
	return fmt.Sprintf("%.1f s", float64(ms)/1000)
}
