package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/api"
)

// VMStartOptions are the arguments and flags of `banger vm start` and
// `banger vm restart`.
type VMStartOptions struct {
	Name   string
	NoWait bool
	// Cold discards a suspended VM's saved state and boots it afresh.
	Cold bool
}

// VMStopOptions are the arguments of `banger vm stop`.
type VMStopOptions struct {
	Name string
}

// VMKillOptions are the arguments and flags of `banger vm kill`.
type VMKillOptions struct {
	Name   string
	Signal string
}

// printChanged renders the VM a power verb returned.
func (e *Env) printChanged(vm *api.VM, done string) error {
	return e.render(vm, func(w io.Writer) error {
		if _, err := fmt.Fprintf(w, "%s %s (%s)\n", vm.Name, done, vm.State); err != nil {
			return err
		}
		if done == "started" || done == "restarted" {
			printBootTimings(w, vm)
		}
		return nil
	})
}

func newVMStartCmd(e *Env, runF func(*VMStartOptions) error) *cobra.Command {
	o := &VMStartOptions{}
	cmd := nameCmd("start", "Boot a stopped VM, or resume a suspended one", &o.Name, func(cmd *cobra.Command) error {
		return runWith(cmd, e, o, runF, vmStartRun)
	})
	cmd.Flags().BoolVar(&o.NoWait, "no-wait", false, "do not wait for SSH")
	cmd.Flags().BoolVar(&o.Cold, "cold", false, "discard a suspended VM's saved state and boot it afresh")
	return cmd
}

func vmStartRun(ctx context.Context, e *Env, o *VMStartOptions) error {
	b, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	vm, err := b.StartVM(ctx, o.Name, api.StartRequest{NoWait: o.NoWait, Cold: o.Cold}, e.progressPrinter())
	if err != nil {
		return err
	}
	return e.printChanged(vm, "started")
}

func newVMRestartCmd(e *Env, runF func(*VMStartOptions) error) *cobra.Command {
	o := &VMStartOptions{}
	cmd := nameCmd("restart", "Stop and start a VM", &o.Name, func(cmd *cobra.Command) error {
		return runWith(cmd, e, o, runF, vmRestartRun)
	})
	cmd.Flags().BoolVar(&o.NoWait, "no-wait", false, "do not wait for SSH")
	return cmd
}

func vmRestartRun(ctx context.Context, e *Env, o *VMStartOptions) error {
	b, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	vm, err := b.RestartVM(ctx, o.Name, api.StartRequest{NoWait: o.NoWait}, e.progressPrinter())
	if err != nil {
		return err
	}
	return e.printChanged(vm, "restarted")
}

func newVMStopCmd(e *Env, runF func(*VMStopOptions) error) *cobra.Command {
	o := &VMStopOptions{}
	return nameCmd("stop", "Power a VM off gracefully (forced after stop_timeout)", &o.Name, func(cmd *cobra.Command) error {
		return runWith(cmd, e, o, runF, vmStopRun)
	})
}

func vmStopRun(ctx context.Context, e *Env, o *VMStopOptions) error {
	b, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	vm, err := b.StopVM(ctx, o.Name, e.progressPrinter())
	if err != nil {
		return err
	}
	return e.printChanged(vm, "stopped")
}

func newVMKillCmd(e *Env, runF func(*VMKillOptions) error) *cobra.Command {
	o := &VMKillOptions{}
	cmd := nameCmd("kill", "Send a signal to a VM's VMM process (default KILL)", &o.Name, func(cmd *cobra.Command) error {
		return runWith(cmd, e, o, runF, vmKillRun)
	})
	cmd.Flags().StringVarP(&o.Signal, "signal", "s", "KILL", "signal name or number, e.g. TERM, KILL, 15")
	return cmd
}

func vmKillRun(ctx context.Context, e *Env, o *VMKillOptions) error {
	b, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	vm, err := b.KillVM(ctx, o.Name, strings.ToUpper(o.Signal))
	if err != nil {
		return err
	}
	return e.printChanged(vm, "signalled")
}

// VMDeleteOptions are the arguments and flags of `banger vm delete`.
type VMDeleteOptions struct {
	Names []string
	Force bool
}

func newVMDeleteCmd(e *Env, runF func(*VMDeleteOptions) error) *cobra.Command {
	o := &VMDeleteOptions{}
	cmd := &cobra.Command{
		Use:     "delete NAME...",
		Aliases: []string{"rm"},
		Short:   "Delete VMs and all their files (refuses a running VM without --force)",
		Args:    atLeastOneVM,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Names = args
			return runWith(cmd, e, o, runF, vmDeleteRun)
		},
	}
	cmd.Flags().BoolVarP(&o.Force, "force", "f", false, "stop a running VM first")
	return cmd
}

func vmDeleteRun(ctx context.Context, e *Env, o *VMDeleteOptions) error {
	b, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	for _, n := range o.Names {
		if err := b.DeleteVM(ctx, n, o.Force); err != nil {
			return err
		}
		if e.Output != "json" {
			fmt.Fprintf(e.Out, "%s deleted\n", n)
		}
	}
	return nil
}

// VMLogsOptions are the arguments and flags of `banger vm logs`.
type VMLogsOptions struct {
	Name   string
	Follow bool
}

func newVMLogsCmd(e *Env, runF func(*VMLogsOptions) error) *cobra.Command {
	o := &VMLogsOptions{}
	cmd := nameCmd("logs", "Print a VM's serial console", &o.Name, func(cmd *cobra.Command) error {
		return runWith(cmd, e, o, runF, vmLogsRun)
	})
	cmd.Flags().BoolVarP(&o.Follow, "follow", "f", false, "keep printing new console output")
	return cmd
}

func vmLogsRun(ctx context.Context, e *Env, o *VMLogsOptions) error {
	b, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	rc, err := b.Logs(ctx, o.Name, o.Follow)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(e.Out, rc)
	if ctx.Err() != nil {
		return nil
	}
	return err
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
