package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/api/client"
	"github.com/bangerdev/banger/internal/version"
)

func newDaemonCmd(e *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "daemon", Short: "Inspect and control bangerd"}
	cmd.AddCommand(newDaemonStatusCmd(e, nil), newDaemonSocketCmd(e, nil), newDaemonStopCmd(e, nil))
	return cmd
}

func newDaemonStatusCmd(e *Env, runF func(*NoArgsOptions) error) *cobra.Command {
	return noArgsCmd("status", "Show the daemon's pid, version, uptime, socket and VM counts (starts it if needed)", func(cmd *cobra.Command) error {
		return runWith(cmd, e, &NoArgsOptions{}, runF, daemonStatusRun)
	})
}

func daemonStatusRun(ctx context.Context, e *Env, _ *NoArgsOptions) error {
	b, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	st, err := b.Status(ctx)
	if err != nil {
		return err
	}
	return e.render(st, func(w io.Writer) error { return showStatus(w, st) })
}

func newDaemonSocketCmd(e *Env, runF func(*NoArgsOptions) error) *cobra.Command {
	return noArgsCmd("socket", "Print the daemon socket path", func(cmd *cobra.Command) error {
		return runWith(cmd, e, &NoArgsOptions{}, runF, daemonSocketRun)
	})
}

func daemonSocketRun(_ context.Context, e *Env, _ *NoArgsOptions) error {
	l, err := e.layout()
	if err != nil {
		return err
	}
	return e.render(map[string]string{"socket": l.SocketPath}, func(w io.Writer) error {
		_, err := fmt.Fprintln(w, l.SocketPath)
		return err
	})
}

func newDaemonStopCmd(e *Env, runF func(*NoArgsOptions) error) *cobra.Command {
	return noArgsCmd("stop", "Stop bangerd; running VMs keep running and are re-adopted on the next start", func(cmd *cobra.Command) error {
		return runWith(cmd, e, &NoArgsOptions{}, runF, daemonStopRun)
	})
}

// daemonStopRun never starts a daemon: with none listening it says so.
func daemonStopRun(ctx context.Context, e *Env, _ *NoArgsOptions) error {
	l, err := e.layout()
	if err != nil {
		return err
	}
	b := e.Dial(l.SocketPath)
	st, err := b.Ping(ctx)
	if err != nil {
		var de *client.DialError
		if errors.As(err, &de) {
			fmt.Fprintln(e.Out, "bangerd is not running")
			return nil
		}
		return err
	}
	if err := b.Shutdown(ctx); err != nil {
		return err
	}
	if err := waitGone(st.PID, 10*time.Second); err != nil {
		return err
	}
	fmt.Fprintf(e.Out, "bangerd (pid %d) stopped; running VMs keep running\n", st.PID)
	return nil
}

// waitGone waits for pid to exit.
func waitGone(pid int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); err != nil {
			return nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("bangerd (pid %d) did not exit within %s; check its log or kill it", pid, limit)
}

func showStatus(w io.Writer, st *api.DaemonStatus) error {
	counts := "none"
	if len(st.VMCounts) > 0 {
		keys := make([]string, 0, len(st.VMCounts))
		for k := range st.VMCounts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		counts = ""
		for i, k := range keys {
			if i > 0 {
				counts += ", "
			}
			counts += strconv.Itoa(st.VMCounts[k]) + " " + k
		}
	}
	ver := st.Version
	if st.Version != version.Version {
		ver += " (banger is " + version.Version + ": run 'banger daemon stop' to restart it)"
	}
	return kv(w, [][2]string{
		{"pid", strconv.Itoa(st.PID)}, {"version", ver}, {"uptime", st.Uptime},
		{"socket", st.Socket}, {"state dir", st.StateDir}, {"runtime dir", st.RuntimeDir},
		{"vmm", st.VMM + " (" + st.VMMReason + ")"}, {"vms", counts},
	})
}

func newVersionCmd(e *Env, runF func(*NoArgsOptions) error) *cobra.Command {
	return noArgsCmd("version", "Print banger's version", func(cmd *cobra.Command) error {
		return runWith(cmd, e, &NoArgsOptions{}, runF, versionRun)
	})
}

func versionRun(_ context.Context, e *Env, _ *NoArgsOptions) error {
	v := map[string]string{"version": version.Version, "api": version.APIVersion, "exe": e.Exe}
	return e.render(v, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "banger %s (api %s)\n", version.Version, version.APIVersion)
		return err
	})
}

func newDoctorCmd(e *Env, runF func(*NoArgsOptions) error) *cobra.Command {
	return noArgsCmd("doctor", "Check the host: KVM, VMM, overlay mechanism, network, NAT, DNS, tools", func(cmd *cobra.Command) error {
		return runWith(cmd, e, &NoArgsOptions{}, runF, doctorRun)
	})
}

// doctorRun prints every check and exits 1 when any is missing.
func doctorRun(ctx context.Context, e *Env, _ *NoArgsOptions) error {
	if e.NetPrivileged != nil && e.Output == "text" {
		// An account nobody set up: one line says what to do, instead
		// of a table of rows that all follow from it.
		if err := e.NetPrivileged(); err != nil {
			fmt.Fprintln(e.Out, err)
			return &ExitError{Code: 1}
		}
	}
	b, err := e.Connect(ctx)
	if err != nil {
		return err
	}
	checks, err := b.Doctor(ctx)
	if err != nil {
		return err
	}
	if err := e.render(checks, func(w io.Writer) error {
		rows := make([][]string, 0, len(checks))
		for _, ch := range checks {
			mark := "ok"
			if !ch.OK {
				mark = "MISSING"
			}
			rows = append(rows, []string{ch.Area, ch.Name, mark, ch.Detail})
		}
		return table(w, []string{"AREA", "CHECK", "STATUS", "DETAIL"}, rows)
	}); err != nil {
		return err
	}
	for _, ch := range checks {
		if !ch.OK {
			return &ExitError{Code: 1}
		}
	}
	return nil
}
