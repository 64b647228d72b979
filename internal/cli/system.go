package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/system"
)

func newSystemCmd(e *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "system", Short: "One-time host setup so ordinary accounts run banger without sudo"}
	cmd.AddCommand(newSystemInstallCmd(e, nil), newSystemUninstallCmd(e, nil), newSystemStatusCmd(e, nil))
	return cmd
}

// SystemUsersOptions are the flags of `banger system install|uninstall`.
type SystemUsersOptions struct {
	// Users are the accounts to set up or remove.
	Users []string
}

func newSystemInstallCmd(e *Env, runF func(*SystemUsersOptions) error) *cobra.Command {
	o := &SystemUsersOptions{}
	cmd := noArgsCmd("install", "Let the listed accounts run banger without root (run with sudo; idempotent)", func(cmd *cobra.Command) error {
		return runWith(cmd, e, o, runF, systemInstallRun)
	})
	cmd.Flags().StringArrayVar(&o.Users, "user", nil, "account to allow (repeatable); default $SUDO_USER")
	return cmd
}

func newSystemUninstallCmd(e *Env, runF func(*SystemUsersOptions) error) *cobra.Command {
	o := &SystemUsersOptions{}
	cmd := noArgsCmd("uninstall", "Undo system install for the listed accounts, or entirely (run with sudo)", func(cmd *cobra.Command) error {
		return runWith(cmd, e, o, runF, systemUninstallRun)
	})
	cmd.Flags().StringArrayVar(&o.Users, "user", nil, "account to remove (repeatable); default: every account and the helper")
	return cmd
}

func newSystemStatusCmd(e *Env, runF func(*NoArgsOptions) error) *cobra.Command {
	return noArgsCmd("status", "Show which accounts system install set up", func(cmd *cobra.Command) error {
		return runWith(cmd, e, &NoArgsOptions{}, runF, systemStatusRun)
	})
}

func systemInstallRun(ctx context.Context, e *Env, o *SystemUsersOptions) error {
	users := o.Users
	if len(users) == 0 && e.Getenv("SUDO_USER") != "" && e.Getenv("SUDO_USER") != "root" {
		users = []string{e.Getenv("SUDO_USER")}
	}
	helper, err := e.helperBinary()
	if err != nil {
		return err
	}
	return system.Install(ctx, system.InstallOptions{Users: users, HelperSrc: helper, Out: e.Out})
}

func systemUninstallRun(ctx context.Context, e *Env, o *SystemUsersOptions) error {
	return system.Uninstall(ctx, system.UninstallOptions{Users: o.Users, Out: e.Out})
}

func systemStatusRun(_ context.Context, e *Env, _ *NoArgsOptions) error {
	reg, err := system.Load(system.RegistryPath)
	if err != nil {
		return err
	}
	return e.render(reg, func(w io.Writer) error {
		if len(reg.Users) == 0 {
			fmt.Fprintln(w, "no account is set up; run 'sudo banger system install --user NAME'")
			return nil
		}
		rows := make([][]string, 0, len(reg.Users))
		for _, a := range reg.Users {
			rows = append(rows, []string{a.User, fmt.Sprint(a.UID), a.Bridge, a.Subnet.String()})
		}
		if err := table(w, []string{"USER", "UID", "BRIDGE", "SUBNET"}, rows); err != nil {
			return err
		}
		state := "installed with its capabilities"
		if !system.HasCaps(system.HelperPath) {
			state = "MISSING or without capabilities: run 'sudo banger system install' again"
		}
		fmt.Fprintf(w, "helper: %s %s\n", system.HelperPath, state)
		return nil
	})
}

// helperBinary finds banger-nethelper next to the running banger.
func (e *Env) helperBinary() (string, error) {
	if e.Exe != "" {
		p := filepath.Join(filepath.Dir(e.Exe), "banger-nethelper")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := execLookPath("banger-nethelper"); err == nil {
		return p, nil
	}
	return "", errors.New("banger-nethelper not found next to banger: build it with 'make build' or reinstall banger with 'make install'")
}
