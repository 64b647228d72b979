package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/units"
)

func newVMCmd(e *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vm",
		Short: "Create, run and manage VMs",
	}
	named := []*cobra.Command{
		newVMShowCmd(e), newVMStatsCmd(e), newVMSSHCmd(e), newVMExecCmd(e), newVMLogsCmd(e),
		newVMStartCmd(e), newVMStopCmd(e), newVMRestartCmd(e), newVMKillCmd(e),
		newVMDeleteCmd(e, nil), newVMSetCmd(e, nil),
	}
	withVMCompletion(e, named...)
	cmd.AddCommand(newVMCreateCmd(e, nil), newVMListCmd(e))
	cmd.AddCommand(named...)
	return cmd
}

// CreateOptions are the flags of `banger vm create`.
type CreateOptions struct {
	Name     string
	Image    string
	DiskSize string
	Memory   int
	VCPUs    int
	NAT      bool
	NoWait   bool
}

// request validates the flags and builds the API request.
func (o *CreateOptions) request() (api.CreateVMRequest, error) {
	req := api.CreateVMRequest{Name: o.Name, Image: o.Image, MemoryMiB: o.Memory, VCPUs: o.VCPUs, NAT: o.NAT, NoWait: o.NoWait}
	if o.DiskSize != "" {
		n, err := units.ParseSize(o.DiskSize)
		if err != nil {
			return req, fmt.Errorf("invalid --disk-size %q: %v; use a size like 8G or 16384M", o.DiskSize, err)
		}
		req.DiskSize = n
	}
	return req, nil
}

func newVMCreateCmd(e *Env, runF func(*CreateOptions) error) *cobra.Command {
	o := &CreateOptions{}
	cmd := &cobra.Command{
		Use:   "create [--name NAME]",
		Short: "Create and boot a VM, waiting until SSH is ready",
		Example: `  banger vm create --name calm-otter
  banger vm create --name web --nat --memory 2048 --vcpu 4 --disk-size 16G`,
		Args: exactArgs(0, "no arguments (use --name)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return vmCreateRun(cmd.Context(), e, o)
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

func vmCreateRun(ctx context.Context, e *Env, o *CreateOptions) error {
	req, err := o.request()
	if err != nil {
		return err
	}
	c, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	vm, err := c.CreateVM(ctx, req, e.progressPrinter())
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
