package cli

// The shape every verb shares (after cli/cli's pkg/cmd/<noun>/<verb>): an
// options struct holding its arguments and flags, newXCmd(e, runF) that
// parses into it, and xRun(ctx, e, opts) that does the work through
// e.Connect. Tests pass runF to see the parsed options without a daemon, or
// run the real xRun against a fake backend.

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

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
