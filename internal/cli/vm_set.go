package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/units"
)

// SetOptions are the flags of `banger vm set`.
type SetOptions struct {
	Name     string
	Memory   int
	VCPUs    int
	DiskSize string
	NAT      bool
	NoNAT    bool

	memorySet, vcpuSet bool
}

// request turns the flags that were given into an API request.
func (o *SetOptions) request() (api.SetVMRequest, error) {
	var req api.SetVMRequest
	if o.NAT && o.NoNAT {
		return req, fmt.Errorf("--nat and --no-nat contradict each other; pass one")
	}
	if o.memorySet {
		req.MemoryMiB = &o.Memory
	}
	if o.vcpuSet {
		req.VCPUs = &o.VCPUs
	}
	if o.DiskSize != "" {
		n, err := units.ParseSize(o.DiskSize)
		if err != nil {
			return req, fmt.Errorf("invalid --disk-size %q: %v; use a size like 32G", o.DiskSize, err)
		}
		req.DiskSize = &n
	}
	if o.NAT || o.NoNAT {
		v := o.NAT
		req.NAT = &v
	}
	if req == (api.SetVMRequest{}) {
		return req, fmt.Errorf("nothing to change: pass --memory, --vcpu, --disk-size, --nat or --no-nat")
	}
	return req, nil
}

func newVMSetCmd(e *Env, runF func(*SetOptions) error) *cobra.Command {
	o := &SetOptions{}
	cmd := &cobra.Command{
		Use:   "set NAME [--memory MIB] [--vcpu N] [--disk-size SIZE] [--nat|--no-nat]",
		Short: "Change a VM's settings (memory, vCPUs and disk only while stopped; NAT any time)",
		Example: `  banger vm set calm-otter --memory 2048 --vcpu 4 --disk-size 32G
  banger vm set web --no-nat`,
		Args: exactArgs(1, "a VM name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			o.memorySet = cmd.Flags().Changed("memory")
			o.vcpuSet = cmd.Flags().Changed("vcpu")
			if runF != nil {
				return runF(o)
			}
			req, err := o.request()
			if err != nil {
				return err
			}
			c, err := e.Connect(cmd.Context())
			if err != nil {
				return err
			}
			vm, err := c.SetVM(cmd.Context(), o.Name, req)
			if err != nil {
				return err
			}
			return e.render(vm, func(w io.Writer) error {
				fmt.Fprintf(w, "%s updated: %d vCPU, %s memory, %s work disk, nat %v\n", vm.Name, vm.VCPUs,
					units.FormatSize(int64(vm.MemoryMiB)<<20), units.FormatSize(vm.DiskSize), vm.NAT)
				return nil
			})
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
