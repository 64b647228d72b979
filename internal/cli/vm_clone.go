package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/api"
)

// CloneOptions are the flags of `banger vm clone`.
type CloneOptions struct {
	Source string
	Name   string
	NAT    bool
	NoWait bool
}

func newVMCloneCmd(e *Env, runF func(*CloneOptions) error) *cobra.Command {
	o := &CloneOptions{}
	cmd := &cobra.Command{
		Use:   "clone SRC NEW",
		Short: "Make a new VM from a stopped or suspended VM's disks, with its own identity",
		Long: "Copy SRC's system overlay and work disk (reflink where the filesystem allows, else a\n" +
			"sparse copy) into a new VM with its own name, hostname, address, MAC and SSH host key,\n" +
			"and boot it. SRC must be stopped or suspended; its running state is not copied.",
		Args: exactArgs(2, "a source VM and a new name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Source, o.Name = args[0], args[1]
			if runF != nil {
				return runF(o)
			}
			c, err := e.Connect(cmd.Context())
			if err != nil {
				return err
			}
			vm, err := c.CloneVM(cmd.Context(), o.Source, api.CloneRequest{Name: o.Name, NAT: o.NAT, NoWait: o.NoWait}, e.progressPrinter())
			if err != nil {
				return err
			}
			return e.render(vm, func(w io.Writer) error {
				fmt.Fprintf(w, "%s cloned from %s (%s, %s)\n", vm.Name, o.Source, vm.State, dash(vm.IP))
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&o.NAT, "nat", false, "give the clone NAT to the outside")
	cmd.Flags().BoolVar(&o.NoWait, "no-wait", false, "do not wait for SSH")
	return cmd
}
