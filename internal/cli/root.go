// Package cli is the `banger` command line: one file per command group, an
// options struct, a newXCmd(e, runF) constructor and an xRun function per
// verb (the cli/cli shape: tests pass runF to check flag parsing). It never
// touches host resources itself; every daemon call goes through the
// backend.Backend that Env.Connect returns, so verbs are unit-tested with an
// in-memory fake.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/api/client"
	"github.com/bangerdev/banger/internal/backend"
	"github.com/bangerdev/banger/internal/paths"
	"github.com/bangerdev/banger/internal/preflight"
	"github.com/bangerdev/banger/internal/version"
)

// Env is what every command needs from the outside world. Tests replace
// its parts.
type Env struct {
	// Out and Err are the command's output streams.
	Out, Err io.Writer
	// In is standard input.
	In io.Reader
	// Getenv reads the environment.
	Getenv func(string) string
	// Exe is the path of the running banger binary.
	Exe string
	// Connect returns the daemon backend, starting bangerd if needed.
	Connect func(ctx context.Context) (backend.Backend, error)
	// Dial returns a backend for socket that never starts a daemon (used by
	// `daemon stop` and shell completion).
	Dial func(socket string) backend.Backend
	// Output is the --output flag: "text" or "json".
	Output string
	// Socket overrides the daemon socket (--socket).
	Socket string
	// Now is the clock for ages ("3m"); nil means time.Now.
	Now func() time.Time
	// NetPrivileged says whether this account may change the VM network
	// (root, or set up by system install); nil means it may.
	NetPrivileged func() error
}

// NewEnv returns the production environment.
func NewEnv() *Env {
	exe, _ := os.Executable()
	e := &Env{Out: os.Stdout, Err: os.Stderr, In: os.Stdin, Getenv: os.Getenv, Exe: exe, Output: "text"}
	e.Connect = e.connectDaemon
	e.NetPrivileged = func() error { return preflight.NetPrivileged(os.Geteuid()) }
	e.Dial = func(socket string) backend.Backend { return client.New(socket) }
	return e
}

// layout resolves the directory layout, applying --socket.
func (e *Env) layout() (paths.Layout, error) {
	l, err := paths.Resolve(e.Getenv)
	if err != nil {
		return l, err
	}
	if e.Socket != "" {
		l.SocketPath = e.Socket
		l.RunDir = filepath.Dir(e.Socket)
	}
	return l, nil
}

func (e *Env) connectDaemon(ctx context.Context) (backend.Backend, error) {
	l, err := e.layout()
	if err != nil {
		return nil, err
	}
	c, err := client.Connect(ctx, l.SocketPath, client.StartOptions{DaemonBin: e.daemonBin(), LogFile: l.LogFile})
	if err != nil {
		return nil, err
	}
	if c.DaemonVersion != "" && c.DaemonVersion != version.Version {
		fmt.Fprintf(e.Err, "warning: bangerd is version %s but banger is %s; run 'banger daemon stop' so the next command starts the matching daemon\n", c.DaemonVersion, version.Version)
	}
	return c, nil
}

// daemonBin finds bangerd: next to banger first, then in PATH.
func (e *Env) daemonBin() string {
	if p := e.Getenv("BANGER_DAEMON_BIN"); p != "" {
		return p
	}
	if e.Exe != "" {
		real, err := filepath.EvalSymlinks(e.Exe)
		if err == nil {
			cand := filepath.Join(filepath.Dir(real), "bangerd")
			if st, err := os.Stat(cand); err == nil && !st.IsDir() {
				return cand
			}
		}
	}
	if p, err := execLookPath("bangerd"); err == nil {
		return p
	}
	return ""
}

// NewRootCmd builds the command tree.
func NewRootCmd(e *Env) *cobra.Command {
	root := &cobra.Command{
		Use:           "banger",
		Short:         "Persistent development microVMs on your workstation",
		Long:          "banger manages persistent Firecracker/QEMU microVMs through the bangerd daemon.\nStart with 'banger vm create --name calm-otter'.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version.String(),
	}
	root.PersistentFlags().StringVarP(&e.Output, "output", "o", "text", "output format: text or json")
	root.PersistentFlags().StringVar(&e.Socket, "socket", "", "daemon socket path (default $XDG_RUNTIME_DIR/banger/bangerd.sock)")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if e.Output != "text" && e.Output != "json" {
			return fmt.Errorf("invalid --output %q: use text or json", e.Output)
		}
		return nil
	}
	root.SetOut(e.Out)
	root.SetErr(e.Err)
	root.SetIn(e.In)
	root.AddCommand(
		newVMCmd(e),
		newImageCmd(e),
		newDaemonCmd(e),
		newBundleCmd(e),
		newConfigCmd(e),
		newDoctorCmd(e, nil),
		newSSHConfigCmd(e, nil),
		newVersionCmd(e, nil),
		newTUICmd(e, nil),
		newSystemCmd(e),
	)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%v; see '%s --help'", err, cmd.CommandPath())
	})
	root.InitDefaultCompletionCmd()
	root.SetHelpCommand(newHelpCmd())
	refuseUnknownSubcommands(root)
	return root
}

// Main runs the CLI and returns the process exit code.
func Main(args []string) int {
	e := NewEnv()
	root := NewRootCmd(e)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	fmt.Fprintln(e.Err, "banger: "+err.Error())
	return 1
}

// ExitError carries an exit code without printing anything more (used to
// pass through the exit status of a remote command).
type ExitError struct{ Code int }

// Error describes the code.
func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// The shape every verb shares (after cli/cli's pkg/cmd/<noun>/<verb>): an
// options struct holding its arguments and flags, newXCmd(e, runF) that
// parses into it, and xRun(ctx, e, opts) that does the work through
// e.Connect. Tests pass runF to see the parsed options without a daemon, or
// run the real xRun against a fake backend.

// NoArgsOptions are the options of a verb with no arguments and no flags
// of its own (`vm list`, `daemon status`, `version`, ...).
type NoArgsOptions struct{}

// noArgsCmd is a verb that takes no arguments and no flags of its own.
func noArgsCmd(use, short string, run func(cmd *cobra.Command) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs(0, "no arguments"),
		RunE:  func(cmd *cobra.Command, _ []string) error { return run(cmd) },
	}
}

// runWith calls runF when a test passed one (to see the parsed options),
// else the verb's real run function.
func runWith[O any](cmd *cobra.Command, e *Env, o *O, runF func(*O) error, run func(context.Context, *Env, *O) error) error {
	if runF != nil {
		return runF(o)
	}
	return run(cmd.Context(), e, o)
}

// exactArgs is cobra.ExactArgs with a message that names what is missing.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%s expects %s, got %d argument(s); see '%s --help'", cmd.CommandPath(), what, len(args), cmd.CommandPath())
		}
		return nil
	}
}

// nameCmd is a verb whose only argument is one VM name, stored in *name
// before run is called.
func nameCmd(use, short string, name *string, run func(cmd *cobra.Command) error) *cobra.Command {
	return &cobra.Command{
		Use:   use + " NAME",
		Short: short,
		Args:  exactArgs(1, "a VM name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			*name = args[0]
			return run(cmd)
		},
	}
}
