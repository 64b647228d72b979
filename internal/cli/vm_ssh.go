package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/sshclient"
)

// sshTarget asks the daemon how to reach a running VM.
func (e *Env) sshTarget(ctx context.Context, name string) (sshclient.Target, error) {
	c, err := e.Connect(ctx)
	if err != nil {
		return sshclient.Target{}, err
	}
	t, err := c.SSHTarget(ctx, name)
	if err != nil {
		return sshclient.Target{}, err
	}
	if t.State != api.StateRunning {
		return sshclient.Target{}, fmt.Errorf("%s is %s; start it with 'banger vm start %s'", name, t.State, name)
	}
	return sshclient.Target{Addr: t.IP, User: t.User, KeyPath: t.KeyPath, KnownHosts: t.KnownHosts, HostKey: t.HostKey}, nil
}

// splitDash separates "NAME -- CMD..." arguments.
func splitDash(cmd *cobra.Command, args []string) (string, []string) {
	if at := cmd.ArgsLenAtDash(); at >= 0 {
		return args[0], args[at:]
	}
	return args[0], args[1:]
}

// VMSSHOptions are the arguments of `banger vm ssh`.
type VMSSHOptions struct {
	Name string
	// Command is the remote command after "--"; empty for a login shell.
	Command []string
}

func newVMSSHCmd(e *Env, runF func(*VMSSHOptions) error) *cobra.Command {
	o := &VMSSHOptions{}
	return &cobra.Command{
		Use:   "ssh NAME [-- COMMAND...]",
		Short: "SSH into a VM with the system ssh (exit code of a remote command is passed through)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || cmd.ArgsLenAtDash() == 0 {
				return fmt.Errorf("%s expects a VM name; see '%s --help'", cmd.CommandPath(), cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name, o.Command = splitDash(cmd, args)
			return runWith(cmd, e, o, runF, vmSSHRun)
		},
	}
}

func vmSSHRun(ctx context.Context, e *Env, o *VMSSHOptions) error {
	t, err := e.sshTarget(ctx, o.Name)
	if err != nil {
		return err
	}
	argv := sshclient.SSHArgs(t, o.Command)
	path, err := execLookPath(argv[0])
	if err != nil {
		return fmt.Errorf("ssh not found: install openssh-client (Debian) or openssh-clients (Fedora)")
	}
	return e.runAttached(ctx, path, argv[1:]...)
}

// VMExecOptions are the arguments and flags of `banger vm exec`.
type VMExecOptions struct {
	Name    string
	Command []string
	// Stdin passes standard input to the remote command.
	Stdin bool
}

func newVMExecCmd(e *Env, runF func(*VMExecOptions) error) *cobra.Command {
	o := &VMExecOptions{}
	cmd := &cobra.Command{
		Use:   "exec NAME -- COMMAND...",
		Short: "Run a command in a VM for scripts (no terminal; exit code passed through)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 || cmd.ArgsLenAtDash() == 0 {
				return fmt.Errorf("%s expects a VM name and a command, e.g. 'banger vm exec calm-otter -- uname -a'", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name, o.Command = splitDash(cmd, args)
			if len(o.Command) == 0 {
				return fmt.Errorf("%s expects a command after the VM name", cmd.CommandPath())
			}
			return runWith(cmd, e, o, runF, vmExecRun)
		},
	}
	cmd.Flags().BoolVarP(&o.Stdin, "stdin", "i", false, "pass standard input to the command")
	return cmd
}

func vmExecRun(ctx context.Context, e *Env, o *VMExecOptions) error {
	t, err := e.sshTarget(ctx, o.Name)
	if err != nil {
		return err
	}
	var in = e.In
	if !o.Stdin {
		in = nil
	}
	code, err := sshclient.Exec(ctx, t, shellJoin(o.Command), in, e.Out, e.Err)
	if err != nil {
		return err
	}
	if code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}

// shellJoin quotes args for the remote POSIX shell.
func shellJoin(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r == '-' || r == '_' || r == '.' || r == '/' || r == '=' || r == ':' || r == ',' ||
				(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
		}) < 0 {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
