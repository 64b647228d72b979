package cli

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// walk calls fn for every command under root, root included.
func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

// treePaths lists the argument paths of every command (without "banger"),
// split into parents (with subcommands) and leaves.
func treePaths(t *testing.T) (parents, leaves [][]string) {
	root := NewRootCmd(testEnv())
	root.InitDefaultHelpCmd()
	walk(root, func(c *cobra.Command) {
		path := strings.Fields(c.CommandPath())[1:]
		if c.HasSubCommands() {
			parents = append(parents, path)
		} else {
			leaves = append(leaves, path)
		}
	})
	return parents, leaves
}

func TestEveryParentRefusesUnknownSubcommands(t *testing.T) {
	parents, _ := treePaths(t)
	if len(parents) < 7 { // banger, vm, image, daemon, bundle, config, completion
		t.Fatalf("only %d parent commands found: %v", len(parents), parents)
	}
	for _, p := range parents {
		where := strings.Join(append([]string{"banger"}, p...), " ")
		out, _, err := run(t, nil, append(p, "frobnicate")...)
		want := `unknown command "frobnicate" for "` + where + `"; see '` + where + ` --help'`
		if err == nil || err.Error() != want {
			t.Errorf("%s frobnicate: err %v, want %q", where, err, want)
		}
		if out != "" {
			t.Errorf("%s frobnicate printed %q", where, out)
		}
		// Without arguments a parent still shows its help and succeeds.
		if out, _, err := run(t, nil, p...); err != nil || !strings.Contains(out, "Available Commands:") {
			t.Errorf("%s: err %v, help %q", where, err, out)
		}
	}
}

// TestUnknownSubcommandFailsWhateverFlagsFollow: --help, -h (and the
// root's --version) anywhere around an unknown subcommand do not turn it
// into a printed help and exit 0; the refusal is the one without flags.
func TestUnknownSubcommandFailsWhateverFlagsFollow(t *testing.T) {
	parents, _ := treePaths(t)
	for _, p := range parents {
		where := strings.Join(append([]string{"banger"}, p...), " ")
		want := `unknown command "frobnicate" for "` + where + `"; see '` + where + ` --help'`
		variants := [][]string{{"frobnicate", "--help"}, {"--help", "frobnicate"}, {"frobnicate", "-h"},
			{"frobnicate", "--help=true"}, {"frobnicate", "-o", "json", "--help"}}
		if len(p) == 0 {
			variants = append(variants, []string{"frobnicate", "--version"}, []string{"-v", "frobnicate"})
		}
		for _, v := range variants {
			args := append(append([]string{}, p...), v...)
			out, _, err := run(t, nil, args...)
			if err == nil || err.Error() != want {
				t.Errorf("banger %s: err %v, want %q", strings.Join(args, " "), err, want)
			}
			if out != "" {
				t.Errorf("banger %s printed %q", strings.Join(args, " "), out)
			}
		}
		// The flags still work on their own.
		if out, _, err := run(t, nil, append(p, "--help")...); err != nil || !strings.Contains(out, "Available Commands:") {
			t.Errorf("%s --help: err %v, help %q", where, err, out)
		}
	}
	if _, _, err := run(t, nil, "vm", "lsit", "--help"); err == nil || !strings.Contains(err.Error(), `did you mean "list"?`) {
		t.Errorf("vm lsit --help: %v", err)
	}
	if out, _, err := run(t, nil, "--version"); err != nil || !strings.Contains(out, "banger version") {
		t.Errorf("--version: err %v, out %q", err, out)
	}
	if code := Main([]string{"--socket", t.TempDir() + "/none.sock", "cluster", "--help"}); code != 1 {
		t.Fatalf("banger cluster --help: exit code %d, want 1", code)
	}
}

func TestUnknownSubcommandSuggestsTheNearest(t *testing.T) {
	cases := map[string]string{
		"vm lsit":            `unknown command "lsit" for "banger vm"; did you mean "list"?`,
		"vm strat x":         `unknown command "strat" for "banger vm"; did you mean "start"?`,
		"vm hibernate calm":  `unknown command "hibernate" for "banger vm"; see 'banger vm --help'`,
		"image biuld":        `unknown command "biuld" for "banger image"; did you mean "build"?`,
		"daemon stat":        `unknown command "stat" for "banger daemon"; did you mean "status"?`,
		"vmm list":           `unknown command "vmm" for "banger"; did you mean "vm"?`,
		"help vm frobnicate": `unknown command "frobnicate" for "banger vm"; see 'banger vm --help'`,
	}
	for args, want := range cases {
		_, _, err := run(t, nil, strings.Fields(args)...)
		if err == nil || err.Error() != want {
			t.Errorf("banger %s: err %v\nwant %q", args, err, want)
		}
	}
	// The exit code is 1 and the message is one line on stderr.
	if code := Main([]string{"--socket", t.TempDir() + "/none.sock", "vm", "frobnicate"}); code != 1 {
		t.Fatalf("exit code %d", code)
	}
}

// variadic are leaves whose positional arguments have no upper bound.
var variadic = map[string]bool{"vm delete": true, "vm ssh": true, "vm exec": true, "help": true,
	"vm suspend": true, "vm resume": true, "vm snapshot create": true}

func TestLeavesRejectStrayArguments(t *testing.T) {
	_, leaves := treePaths(t)
	root := NewRootCmd(testEnv())
	root.InitDefaultHelpCmd()
	checked := 0
	for _, p := range leaves {
		name := strings.Join(p, " ")
		if variadic[name] {
			continue
		}
		cmd, _, err := root.Find(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// A leaf accepts a fixed number of names: one more is refused, and
		// runF (nil here) is never reached because Args fails first.
		want := 0
		for cmd.Args != nil && want < 3 && cmd.Args(cmd, make([]string, want)) != nil {
			want++
		}
		stray := make([]string, want+1)
		for i := range stray {
			stray[i] = "stray"
		}
		if err := cmd.ValidateArgs(stray); err == nil {
			t.Errorf("banger %s accepted %d argument(s); want at most %d", name, len(stray), want)
		}
		checked++
	}
	if checked < 25 {
		t.Fatalf("only %d leaves checked", checked)
	}
	// End to end: a stray argument is an error before any daemon is reached.
	if _, _, err := run(t, nil, "vm", "list", "extra"); err == nil || !strings.Contains(err.Error(), "banger vm list expects no arguments, got 1") {
		t.Fatalf("vm list extra: %v", err)
	}
}
