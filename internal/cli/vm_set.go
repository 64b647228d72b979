package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/units"
)

// VMSetOptions are the arguments and flags of `banger vm set`.
type VMSetOptions struct {
	ResourceFlags
	Name  string
	NAT   bool
	NoNAT bool
}

// request turns the flags that were given into an API request.
func (o *VMSetOptions) request() (api.SetVMRequest, error) {
	var req api.SetVMRequest
	if o.NAT && o.NoNAT {
		return req, fmt.Errorf("--nat and --no-nat contradict each other; pass one")
	}
	res, err := o.parse("32G")
	if err != nil {
		return req, err
	}
	req.MemoryMiB, req.VCPUs, req.DiskSize = res.MemoryMiB, res.VCPUs, res.DiskSize
	if o.NAT || o.NoNAT {
		v := o.NAT
		req.NAT = &v
	}
	if req == (api.SetVMRequest{}) {
		return req, fmt.Errorf("nothing to change: pass --memory, --vcpu, --disk-size, --nat or --no-nat")
	}
	return req, nil
}

func newVMSetCmd(e *Env, runF func(*VMSetOptions) error) *cobra.Command {
	o := &VMSetOptions{}
	cmd := &cobra.Command{
		Use:   "set NAME [--memory MIB] [--vcpu N] [--disk-size SIZE] [--nat|--no-nat]",
		Short: "Change a VM's settings (memory, vCPUs and disk only while stopped; NAT any time)",
		Example: `  banger vm set calm-otter --memory 2048 --vcpu 4 --disk-size 32G
  banger vm set web --no-nat`,
		Args: exactArgs(1, "a VM name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			o.noteChanged(cmd.Flags())
			return runWith(cmd, e, o, runF, vmSetRun)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Memory, "memory", 0, "memory in MiB")
	f.IntVar(&o.VCPUs, "vcpu", 0, "number of vCPUs")
	f.StringVar(&o.DiskSize, "disk-size", "", "grow the work disk to SIZE (shrinking is refused)")
	f.BoolVar(&o.NAT, "nat", false, "enable NAT")
	f.BoolVar(&o.NoNAT, "no-nat", false, "disable NAT")
	return cmd
}

func vmSetRun(ctx context.Context, e *Env, o *VMSetOptions) error {
	req, err := o.request()
	if err != nil {
		return err
	}
	b, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	vm, err := b.SetVM(ctx, o.Name, req)
	if err != nil {
		return err
	}
	return e.render(vm, func(w io.Writer) error {
		fmt.Fprintf(w, "%s updated: %d vCPU, %s memory, %s work disk, nat %v\n", vm.Name, vm.VCPUs,
			units.FormatSize(int64(vm.MemoryMiB)<<20), units.FormatSize(vm.DiskSize), vm.NAT)
		return nil
	})
}
