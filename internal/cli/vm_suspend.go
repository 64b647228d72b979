package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/units"
)

// SuspendOptions are the flags of `banger vm suspend`.
type SuspendOptions struct {
	Names []string
	// All suspends every running VM and records them for resume_on_start.
	All bool
}

func (o *SuspendOptions) validate(cmd *cobra.Command) error {
	if o.All && len(o.Names) > 0 {
		return fmt.Errorf("%s takes VM names or --all, not both", cmd.CommandPath())
	}
	if !o.All && len(o.Names) == 0 {
		return fmt.Errorf("%s expects at least one VM name or --all; see '%s --help'", cmd.CommandPath(), cmd.CommandPath())
	}
	return nil
}

func newVMSuspendCmd(e *Env, runF func(*SuspendOptions) error) *cobra.Command {
	o := &SuspendOptions{}
	cmd := &cobra.Command{
		Use:   "suspend NAME... | --all",
		Short: "Save VMs' running state to disk and free their memory ('vm resume' continues them)",
		Long: "Save each VM's memory and device state into its directory and end its VMM process: host RAM\n" +
			"is freed and tap, NAT and DNS released. 'banger vm resume' (or 'vm start') continues the VM\n" +
			"where it was. --all suspends every running VM and records them, so a daemon with\n" +
			"resume_on_start = true resumes them when it next starts (see docs/suspend.md).",
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Names = args
			if err := o.validate(cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			c, err := e.Connect(cmd.Context())
			if err != nil {
				return err
			}
			names := o.Names
			if o.All {
				vms, err := c.ListVMs(cmd.Context())
				if err != nil {
					return err
				}
				for _, v := range vms {
					if v.State == api.StateRunning {
						names = append(names, v.Name)
					}
				}
			}
			var done []*api.VM
			var failed error
			for _, n := range names {
				vm, err := c.SuspendVM(cmd.Context(), n, api.SuspendRequest{ResumeOnStart: o.All}, e.progressPrinter())
				if err != nil {
					// --all carries on, so one bad VM does not keep the
					// others running through a host shutdown.
					if !o.All {
						return err
					}
					fmt.Fprintf(e.Err, "banger: %v\n", err)
					failed = fmt.Errorf("some VMs were not suspended")
					continue
				}
				done = append(done, vm)
			}
			if done == nil {
				done = []*api.VM{}
			}
			if err := e.render(done, func(w io.Writer) error {
				for _, vm := range done {
					fmt.Fprintf(w, "%s suspended (%s of saved state)\n", vm.Name, savedSize(vm))
				}
				return nil
			}); err != nil {
				return err
			}
			return failed
		},
	}
	cmd.Flags().BoolVar(&o.All, "all", false, "suspend every running VM and record them for resume_on_start")
	return cmd
}

// ResumeOptions are the flags of `banger vm resume`.
type ResumeOptions struct {
	Names  []string
	NoWait bool
}

func newVMResumeCmd(e *Env, runF func(*ResumeOptions) error) *cobra.Command {
	o := &ResumeOptions{}
	cmd := &cobra.Command{
		Use:   "resume NAME...",
		Short: "Continue suspended VMs where they were",
		Long: "Load each suspended VM's saved state into a new VMM process with the same address, NAT,\n" +
			"DNS name and host key, wait for SSH and set the guest clock to the host's. A state that\n" +
			"cannot be loaded is reported and kept; 'banger vm start --cold NAME' discards it.",
		Args: atLeastOneVM,
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
				vm, err := c.GetVM(cmd.Context(), n)
				if err != nil {
					return err
				}
				if vm.State != api.StateSuspended {
					return fmt.Errorf("%s is %s, not suspended; nothing to resume", n, vm.State)
				}
				vm, err = c.StartVM(cmd.Context(), n, api.StartRequest{NoWait: o.NoWait}, e.progressPrinter())
				if err != nil {
					return err
				}
				if err := e.render(vm, func(w io.Writer) error {
					fmt.Fprintf(w, "%s resumed (%s)\n", vm.Name, vm.State)
					return nil
				}); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&o.NoWait, "no-wait", false, "do not wait for SSH (the guest clock is then not corrected)")
	return cmd
}

// savedSize renders the size of a VM's saved state, or "-".
func savedSize(v *api.VM) string {
	if v.SavedState == nil {
		return "-"
	}
	return units.HumanSize(v.SavedState.Size)
}

// atLeastOneVM is the Args check of verbs taking VM names.
func atLeastOneVM(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%s expects at least one VM name; see '%s --help'", cmd.CommandPath(), cmd.CommandPath())
	}
	return nil
}
