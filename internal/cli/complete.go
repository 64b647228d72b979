package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"
)

// completeVMNames completes the first argument with the daemon's VM names.
// It never starts a daemon: completion must stay instant and side-effect free.
func completeVMNames(e *Env) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		l, err := e.layout()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		vms, err := e.Dial(l.SocketPath).ListVMs(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		names := make([]string, 0, len(vms))
		for _, v := range vms {
			names = append(names, v.Name)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

// withVMCompletion sets VM-name completion on every command that takes a
// VM name as its first argument.
func withVMCompletion(e *Env, cmds ...*cobra.Command) {
	for _, c := range cmds {
		c.ValidArgsFunction = completeVMNames(e)
	}
}
