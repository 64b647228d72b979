package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// refuseUnknownSubcommands makes every command that has subcommands (root
// included) refuse an argument that names none of them. Cobra's default
// for a non-root parent is to print its help and exit 0, so a script
// calling a verb this version lacks would carry on as if it had worked.
// Without arguments a parent still prints its help. Cobra answers --help
// (and the root's --version) before it checks arguments, so a parent's
// help and version flags read as unset while an argument follows it:
// `banger vm frobnicate --help` fails like `banger vm frobnicate`.
func refuseUnknownSubcommands(c *cobra.Command) {
	if c.HasSubCommands() {
		c.Args = unknownSubcommand
		onlyWithoutArgs(c, "help", "h", "help for "+c.DisplayName())
		if c.Version != "" {
			onlyWithoutArgs(c, "version", "v", "version for "+c.DisplayName())
		}
		if c.Run == nil && c.RunE == nil {
			c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
			c.DisableFlagsInUseLine = true // usage shows "banger vm", not "banger vm [flags]"
		}
	}
	for _, sub := range c.Commands() {
		refuseUnknownSubcommands(sub)
	}
}

// onlyWithoutArgs declares c's boolean flag name (cobra's --help or
// --version, which cobra then leaves alone) as one that counts as given only
// when c has no positional argument.
func onlyWithoutArgs(c *cobra.Command, name, short, usage string) {
	f := c.Flags().VarPF(&argsOffFlag{cmd: c}, name, short, usage)
	f.NoOptDefVal = "true"
	_ = c.Flags().SetAnnotation(name, cobra.FlagSetByCobraAnnotation, []string{"true"})
}

// argsOffFlag is a bool flag value that reads as false while its command
// has positional arguments (cobra reads --help and --version through
// String after parsing, before the Args check).
type argsOffFlag struct {
	cmd *cobra.Command
	set bool
}

// String is the value cobra sees: set, and no argument given.
func (f *argsOffFlag) String() string {
	return strconv.FormatBool(f.set && len(f.cmd.Flags().Args()) == 0)
}

// Set parses the flag's value as a bool.
func (f *argsOffFlag) Set(s string) error {
	v, err := strconv.ParseBool(s)
	f.set = v
	return err
}

// Type makes pflag and cobra treat the flag as a bool.
func (f *argsOffFlag) Type() string { return "bool" }

// unknownSubcommand is the Args check of a parent command: any positional
// argument is a subcommand name it does not have.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return unknownCommandError(cmd, args[0])
}

// unknownCommandError says which word was not understood where, and the
// nearest subcommand when one is close, on one line.
func unknownCommandError(cmd *cobra.Command, word string) error {
	hint := fmt.Sprintf("see '%s --help'", cmd.CommandPath())
	if s := nearest(cmd, word); len(s) > 0 {
		hint = "did you mean " + quoteOr(s) + "?"
	}
	return fmt.Errorf("unknown command %q for %q; %s", word, cmd.CommandPath(), hint)
}

// nearest returns the subcommands of cmd closest to word: cobra's
// candidates (edit distance up to 2, or word is a prefix), ranked by edit
// distance with a swap of two neighbours counting as one edit, prefix
// matches first on a tie.
func nearest(cmd *cobra.Command, word string) []string {
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	var best []string
	bestScore := -1
	for _, name := range cmd.SuggestionsFor(word) {
		score := 2 * editDistance(strings.ToLower(word), strings.ToLower(name))
		if !strings.HasPrefix(strings.ToLower(name), strings.ToLower(word)) {
			score++
		}
		switch {
		case bestScore < 0 || score < bestScore:
			best, bestScore = []string{name}, score
		case score == bestScore:
			best = append(best, name)
		}
	}
	return best
}

// editDistance is the optimal string alignment distance of a and b:
// insertions, deletions, substitutions and adjacent swaps cost one each.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// quoteOr renders names as `"a"`, `"a" or "b"`, `"a", "b" or "c"`.
func quoteOr(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// newHelpCmd is `banger help [COMMAND...]`; unlike cobra's, it fails on a
// topic that names no command instead of printing the usage and exiting 0.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND...]",
		Short: "Help about any command",
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			target, _, err := cmd.Root().Find(args)
			if err != nil || target == nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			for _, sub := range target.Commands() {
				if sub.IsAvailableCommand() {
					names = append(names, sub.Name())
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := cmd.Root().Find(args)
			if err != nil {
				return err
			}
			if len(rest) > 0 {
				return unknownCommandError(target, rest[0])
			}
			return target.Help()
		},
	}
}
