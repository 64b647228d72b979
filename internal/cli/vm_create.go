package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/api"
)

func newVMCmd(e *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vm",
		Short: "Create, run and manage VMs",
	}
	named := []*cobra.Command{
		newVMShowCmd(e, nil), newVMStatsCmd(e, nil), newVMSSHCmd(e, nil), newVMExecCmd(e, nil), newVMLogsCmd(e, nil),
		newVMStartCmd(e, nil), newVMStopCmd(e, nil), newVMRestartCmd(e, nil), newVMKillCmd(e, nil),
		newVMDeleteCmd(e, nil), newVMSetCmd(e, nil), newVMProxyCmd(e, nil),
		newVMSuspendCmd(e, nil), newVMResumeCmd(e, nil), newVMCloneCmd(e, nil),
	}
	withVMCompletion(e, named...)
	cmd.AddCommand(newVMCreateCmd(e, nil), newVMListCmd(e, nil), newVMSnapshotCmd(e))
	cmd.AddCommand(named...)
	return cmd
}

// VMCreateOptions are the flags of `banger vm create`.
type VMCreateOptions struct {
	ResourceFlags
	Name   string
	Image  string
	NAT    bool
	NoWait bool
}

// request validates the flags and builds the API request. Resources left
// at zero are filled from the config by the daemon.
func (o *VMCreateOptions) request() (api.CreateVMRequest, error) {
	req := api.CreateVMRequest{Name: o.Name, Image: o.Image, NAT: o.NAT, NoWait: o.NoWait}
	res, err := o.parse("8G or 16384M")
	if err != nil {
		return req, err
	}
	if res.MemoryMiB != nil {
		req.MemoryMiB = *res.MemoryMiB
	}
	if res.VCPUs != nil {
		req.VCPUs = *res.VCPUs
	}
	if res.DiskSize != nil {
		req.DiskSize = *res.DiskSize
	}
	return req, nil
}

func newVMCreateCmd(e *Env, runF func(*VMCreateOptions) error) *cobra.Command {
	o := &VMCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create [--name NAME]",
		Short: "Create and boot a VM, waiting until SSH is ready",
		Example: `  banger vm create --name calm-otter
  banger vm create --name web --nat --memory 2048 --vcpu 4 --disk-size 16G`,
		Args: exactArgs(0, "no arguments (use --name)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.noteChanged(cmd.Flags())
			return runWith(cmd, e, o, runF, vmCreateRun)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Name, "name", "", "VM name (default: a random adjective-noun)")
	f.StringVar(&o.Image, "image", "", "image to boot (default: the bundle's default image)")
	f.StringVar(&o.DiskSize, "disk-size", "", "work disk size, e.g. 16G (default from config)")
	f.IntVar(&o.Memory, "memory", 0, "memory in MiB (default from config)")
	f.IntVar(&o.VCPUs, "vcpu", 0, "number of vCPUs (default from config)")
	f.BoolVar(&o.NAT, "nat", false, "give the VM outbound internet access through NAT")
	f.BoolVar(&o.NoWait, "no-wait", false, "return once the VM is booting, without waiting for SSH")
	return cmd
}

func vmCreateRun(ctx context.Context, e *Env, o *VMCreateOptions) error {
	req, err := o.request()
	if err != nil {
		return err
	}
	b, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	vm, err := b.CreateVM(ctx, req, e.progressPrinter())
	if err != nil {
		return err
	}
	return e.render(vm, func(w io.Writer) error {
		fmt.Fprintf(w, "%s is %s at %s (%s)\n", vm.Name, vm.State, vm.IP, vm.DNSName)
		printBootTimings(w, vm)
		fmt.Fprintf(w, "ssh into it with: banger vm ssh %s\n", vm.Name)
		return nil
	})
}
