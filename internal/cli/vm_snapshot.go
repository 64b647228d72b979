package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/units"
)

func newVMSnapshotCmd(e *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "snapshot",
		Aliases: []string{"snap"},
		Short:   "Point-in-time copies of a VM's disks (and optionally its running state)",
	}
	cmd.AddCommand(newSnapshotCreateCmd(e, nil), newSnapshotListCmd(e), newSnapshotRestoreCmd(e, nil), newSnapshotDeleteCmd(e))
	return cmd
}

// SnapshotCreateOptions are the flags of `banger vm snapshot create`.
type SnapshotCreateOptions struct {
	VM, Name string
	Memory   bool
	NoWait   bool
}

func newSnapshotCreateCmd(e *Env, runF func(*SnapshotCreateOptions) error) *cobra.Command {
	o := &SnapshotCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create NAME [SNAP]",
		Short: "Copy a VM's system overlay and work disk into a snapshot",
		Long: "Copy NAME's disks into a snapshot (reflink where the filesystem allows, else a sparse\n" +
			"copy). A running VM is suspended for the copy and resumed, so the copy is of one instant;\n" +
			"--memory also keeps its running state, so a restore continues from that instant.",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return fmt.Errorf("%s expects a VM name and an optional snapshot name; see '%s --help'", cmd.CommandPath(), cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.VM = args[0]
			if len(args) == 2 {
				o.Name = args[1]
			}
			if runF != nil {
				return runF(o)
			}
			c, err := e.Connect(cmd.Context())
			if err != nil {
				return err
			}
			sn, err := c.CreateSnapshot(cmd.Context(), o.VM, api.SnapshotRequest{Name: o.Name, Memory: o.Memory, NoWait: o.NoWait}, e.progressPrinter())
			if err != nil {
				return err
			}
			return e.render(sn, func(w io.Writer) error {
				fmt.Fprintf(w, "snapshot %s of %s created (%s, %s)\n", sn.Name, sn.VM, sn.Method, units.HumanSize(sn.Allocated))
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&o.Memory, "memory", false, "also keep the running state (VM running or suspended)")
	cmd.Flags().BoolVar(&o.NoWait, "no-wait", false, "running VM: skip the guest sync before and the SSH wait after the copy")
	return cmd
}

func newSnapshotListCmd(e *Env) *cobra.Command {
	return &cobra.Command{
		Use:     "list NAME",
		Aliases: []string{"ls"},
		Short:   "List a VM's snapshots, how they were copied and the space they take",
		Args:    exactArgs(1, "a VM name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.Connect(cmd.Context())
			if err != nil {
				return err
			}
			sns, err := c.ListSnapshots(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if sns == nil {
				sns = []api.Snapshot{}
			}
			return e.render(sns, func(w io.Writer) error {
				rows := make([][]string, 0, len(sns))
				for _, s := range sns {
					mem := "no"
					if s.Memory {
						mem = "yes"
					}
					rows = append(rows, []string{s.Name, mem, s.Method, units.HumanSize(s.Allocated), e.age(s.CreatedAt)})
				}
				return table(w, []string{"NAME", "MEMORY", "COPY", "SPACE", "AGE"}, rows)
			})
		},
	}
}

// SnapshotRestoreOptions are the flags of `banger vm snapshot restore`.
type SnapshotRestoreOptions struct {
	VM, Name string
	Force    bool
}

func newSnapshotRestoreCmd(e *Env, runF func(*SnapshotRestoreOptions) error) *cobra.Command {
	o := &SnapshotRestoreOptions{}
	cmd := &cobra.Command{
		Use:   "restore NAME SNAP",
		Short: "Put a snapshot's disks (and state) back in place of the VM's",
		Long: "Replace NAME's system overlay and work disk with SNAP's copies. A running VM needs --force\n" +
			"(it is stopped first); a suspended VM's saved state is discarded. With a --memory snapshot\n" +
			"the VM is left suspended at the snapshot's instant, otherwise stopped: 'vm start' it.",
		Args: exactArgs(2, "a VM name and a snapshot name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.VM, o.Name = args[0], args[1]
			if runF != nil {
				return runF(o)
			}
			c, err := e.Connect(cmd.Context())
			if err != nil {
				return err
			}
			vm, err := c.RestoreSnapshot(cmd.Context(), o.VM, o.Name, api.RestoreRequest{Force: o.Force}, e.progressPrinter())
			if err != nil {
				return err
			}
			return e.render(vm, func(w io.Writer) error {
				fmt.Fprintf(w, "%s restored from %s (%s); 'banger vm start %s' to run it\n", vm.Name, o.Name, vm.State, vm.Name)
				return nil
			})
		},
	}
	cmd.Flags().BoolVarP(&o.Force, "force", "f", false, "stop a running VM first")
	return cmd
}

func newSnapshotDeleteCmd(e *Env) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME SNAP",
		Aliases: []string{"rm"},
		Short:   "Delete a snapshot and its files",
		Args:    exactArgs(2, "a VM name and a snapshot name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.Connect(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.DeleteSnapshot(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			if e.Output != "json" {
				fmt.Fprintf(e.Out, "snapshot %s of %s deleted\n", args[1], args[0])
			}
			return nil
		},
	}
}
