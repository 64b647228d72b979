package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/units"
)

func newVMListCmd(e *Env, runF func(*NoArgsOptions) error) *cobra.Command {
	cmd := noArgsCmd("list", "List VMs", func(cmd *cobra.Command) error {
		return runWith(cmd, e, &NoArgsOptions{}, runF, vmListRun)
	})
	cmd.Aliases = []string{"ls"}
	return cmd
}

func vmListRun(ctx context.Context, e *Env, _ *NoArgsOptions) error {
	b, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	vms, err := b.ListVMs(ctx)
	if err != nil {
		return err
	}
	if vms == nil {
		vms = []api.VM{}
	}
	return e.render(vms, func(w io.Writer) error { return e.vmTable(w, vms) })
}

func (e *Env) vmTable(w io.Writer, vms []api.VM) error {
	rows := make([][]string, 0, len(vms))
	for _, v := range vms {
		nat := ""
		if v.NAT {
			nat = " (nat)"
		}
		state := v.State
		if v.SavedState != nil {
			state += " (" + units.HumanSize(v.SavedState.Size) + ")"
		}
		rows = append(rows, []string{v.Name, state, v.Image, dash(v.IP) + nat, strconv.Itoa(v.VCPUs),
			units.HumanSize(int64(v.MemoryMiB) << 20), units.HumanSize(v.DiskSize), e.age(v.CreatedAt)})
	}
	return table(w, []string{"NAME", "STATE", "IMAGE", "IP", "VCPU", "MEMORY", "DISK", "AGE"}, rows)
}

// VMShowOptions are the arguments of `banger vm show`.
type VMShowOptions struct {
	Name string
}

func newVMShowCmd(e *Env, runF func(*VMShowOptions) error) *cobra.Command {
	o := &VMShowOptions{}
	return nameCmd("show", "Show everything about a VM", &o.Name, func(cmd *cobra.Command) error {
		return runWith(cmd, e, o, runF, vmShowRun)
	})
}

func vmShowRun(ctx context.Context, e *Env, o *VMShowOptions) error {
	b, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	vm, err := b.GetVM(ctx, o.Name)
	if err != nil {
		return err
	}
	return e.render(vm, func(w io.Writer) error { return e.showVM(w, vm) })
}

func (e *Env) showVM(w io.Writer, v *api.VM) error {
	pid := "-"
	if v.PID != 0 {
		pid = strconv.Itoa(v.PID)
	}
	return kv(w, [][2]string{
		{"name", v.Name}, {"state", v.State}, {"image", v.Image},
		{"ip", dash(v.IP)}, {"dns", v.DNSName}, {"mac", v.MAC}, {"tap", v.Tap},
		{"nat", strconv.FormatBool(v.NAT)},
		{"vcpus", strconv.Itoa(v.VCPUs)}, {"memory", units.HumanSize(int64(v.MemoryMiB) << 20)},
		{"work disk", units.HumanSize(v.DiskSize)},
		{"driver", dash(v.Driver) + accelSuffix(v.Accel)}, {"pid", pid},
		{"created", v.CreatedAt.Local().Format("2006-01-02 15:04:05")},
		{"started", e.startedAt(v)}, {"last boot", bootSummary(v.BootTimings)},
		{"dir", v.Files.Dir}, {"overlay", v.Files.Overlay + " (" + v.Files.OverlayKind + ")"},
		{"work disk file", v.Files.WorkDisk}, {"console log", v.Files.ConsoleLog},
		{"control socket", dash(v.Files.ControlSocket)}, {"kernel", v.Files.Kernel},
		{"initrd", dash(v.Files.Initrd)}, {"base image", v.Files.BaseImage},
		{"last error", dash(v.LastError)},
		{"saved state", savedStateLine(v)},
	})
}

// savedStateLine describes a suspended VM's saved state for 'vm show'.
func savedStateLine(v *api.VM) string {
	s := v.SavedState
	if s == nil {
		return "-"
	}
	return fmt.Sprintf("%s in %s, by %s %s, saved %s", units.HumanSize(s.Size), s.Dir, s.Driver, s.VMMVersion,
		s.SavedAt.Local().Format("2006-01-02 15:04:05"))
}

// bootSummary is the "last boot" row of vm show.
func bootSummary(t *api.BootTimings) string {
	if t == nil {
		return "-"
	}
	if t.GuestMS == 0 {
		return "host " + formatMS(t.HostMS) + " (did not wait for SSH)"
	}
	return fmt.Sprintf("%s (host %s, guest %s, SSH check %s)", formatMS(t.TotalMS), formatMS(t.HostMS), formatMS(t.GuestMS), formatMS(t.ReadyMS))
}

func accelSuffix(a string) string {
	if a == "" {
		return ""
	}
	return " (" + a + ")"
}

// startedAt renders when a running VM started and how long ago.
func (e *Env) startedAt(v *api.VM) string {
	if v.StartedAt.IsZero() || v.State != api.StateRunning {
		return "-"
	}
	return v.StartedAt.Local().Format("2006-01-02 15:04:05") + " (" + e.age(v.StartedAt) + " ago)"
}

// VMStatsOptions are the arguments of `banger vm stats`.
type VMStatsOptions struct {
	Name string
}

func newVMStatsCmd(e *Env, runF func(*VMStatsOptions) error) *cobra.Command {
	o := &VMStatsOptions{}
	return nameCmd("stats", "Show host-side and guest-side resource usage of a VM", &o.Name, func(cmd *cobra.Command) error {
		return runWith(cmd, e, o, runF, vmStatsRun)
	})
}

func vmStatsRun(ctx context.Context, e *Env, o *VMStatsOptions) error {
	b, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	st, err := b.Stats(ctx, o.Name)
	if err != nil {
		return err
	}
	return e.render(st, func(w io.Writer) error { return showStats(w, st) })
}

func showStats(w io.Writer, st *api.VMStats) error {
	h := st.Host
	pairs := [][2]string{
		{"state", st.State},
		{"host cpu", fmt.Sprintf("%.1fs (%.1f%%)", h.CPUSeconds, h.CPUPercent)},
		{"host rss", units.HumanSize(h.RSSBytes)},
		{"work disk", fmt.Sprintf("%s allocated of %s", units.HumanSize(h.WorkDiskAlloc), units.HumanSize(h.WorkDiskSize))},
		{"overlay", units.HumanSize(h.OverlayAlloc) + " allocated"},
		{"disk io", fmt.Sprintf("read %s, written %s", units.HumanSize(h.DiskReadBytes), units.HumanSize(h.DiskWriteBytes))},
		{"net io", fmt.Sprintf("rx %s, tx %s", units.HumanSize(h.NetRxBytes), units.HumanSize(h.NetTxBytes))},
	}
	if h.StateAlloc > 0 {
		pairs = append(pairs, [2]string{"saved state", units.HumanSize(h.StateAlloc) + " allocated"})
	}
	if g := st.Guest; g != nil {
		pairs = append(pairs,
			[2]string{"guest uptime", shortDurationSeconds(g.UptimeSeconds)},
			[2]string{"guest load", fmt.Sprintf("%.2f %.2f %.2f", g.Load1, g.Load5, g.Load15)},
			[2]string{"guest memory", fmt.Sprintf("%s used of %s", units.HumanSize(g.MemTotal-g.MemAvailable), units.HumanSize(g.MemTotal))},
			[2]string{"guest /", fmt.Sprintf("%s used of %s", units.HumanSize(g.RootUsed), units.HumanSize(g.RootSize))},
			[2]string{"guest /root", fmt.Sprintf("%s used of %s", units.HumanSize(g.WorkUsed), units.HumanSize(g.WorkSize))},
		)
	} else if st.GuestError != "" {
		pairs = append(pairs, [2]string{"guest", st.GuestError})
	}
	return kv(w, pairs)
}
