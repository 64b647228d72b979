package e2e

import (
	"strings"
	"testing"
)

// TestRefusals checks that bad invocations exit non-zero with one clear
// line and change nothing.
func TestRefusals(t *testing.T) {
	requireRoot(t)
	e := newEnv(t, "")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"vm", "create", "--name", "Calm_Otter"}, `banger: invalid VM name "Calm_Otter": use 1-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit` + "\n"},
		{[]string{"vm", "create", "--name", "ok-name", "--memory", "64"}, "banger: invalid memory 64 MiB: use 128 to 65536 MiB\n"},
		{[]string{"vm", "create", "--name", "ok-name", "--vcpu", "99"}, "banger: invalid vcpu count 99: use 1 to 32\n"},
		{[]string{"vm", "create", "--name", "ok-name", "--disk-size", "512M"}, "banger: invalid disk size 512M: use 1G to 2T\n"},
		{[]string{"vm", "create", "--name", "ok-name", "--disk-size", "lots"}, ""},
		{[]string{"vm", "create", "--bogus"}, "banger: unknown flag: --bogus; see 'banger vm create --help'\n"},
		{[]string{"vm", "show"}, "banger: banger vm show expects a VM name, got 0 argument(s); see 'banger vm show --help'\n"},
		{[]string{"vm", "show", "nope"}, `banger: no VM named "nope"; see 'banger vm list'` + "\n"},
		{[]string{"vm", "delete", "nope"}, `banger: no VM named "nope"; see 'banger vm list'` + "\n"},
		{[]string{"vm", "kill", "--signal", "BOGUS", "nope"}, `banger: unknown signal "BOGUS": use KILL, TERM, INT, HUP, QUIT, USR1, USR2, STOP, CONT or a number` + "\n"},
		{[]string{"vm", "set", "nope"}, "banger: nothing to change: pass --memory, --vcpu, --disk-size, --nat or --no-nat\n"},
		{[]string{"vm", "set", "nope", "--nat", "--no-nat"}, "banger: --nat and --no-nat contradict each other; pass one\n"},
		{[]string{"image", "show", "nope"}, `banger: no image named "nope"; see 'banger image list'` + "\n"},
		{[]string{"vm", "create", "--name", "ok-name", "--image", "nope"}, `banger: no image named "nope"; see 'banger image list'` + "\n"},
		{[]string{"--output", "yaml", "vm", "list"}, "banger: invalid --output \"yaml\": use text or json\n"},
		{[]string{"vm", "create", "--name", "ok-name", "--memory", "0"}, "banger: invalid memory 0 MiB: use 128 to 65536 MiB\n"},
		{[]string{"vm", "set", "nope", "--disk-size", "0"}, "banger: invalid disk size 0: use 1G to 2T\n"},
		{[]string{"vm", "frobnicate"}, `banger: unknown command "frobnicate" for "banger vm"; see 'banger vm --help'` + "\n"},
		{[]string{"vm", "hibernate", "x"}, `banger: unknown command "hibernate" for "banger vm"; see 'banger vm --help'` + "\n"},
		{[]string{"image", "lsit"}, `banger: unknown command "lsit" for "banger image"; did you mean "list"?` + "\n"},
		{[]string{"vm", "list", "extra"}, "banger: banger vm list expects no arguments, got 1 argument(s); see 'banger vm list --help'\n"},
	}
	for _, c := range cases {
		r := e.Run(c.args...)
		if r.Code == 0 {
			t.Errorf("banger %s succeeded; want a refusal", strings.Join(c.args, " "))
			continue
		}
		if lines := strings.Count(r.Stderr, "\n"); lines != 1 {
			t.Errorf("banger %s: %d lines of stderr, want one: %q", strings.Join(c.args, " "), lines, r.Stderr)
		}
		if c.want != "" && r.Stderr != c.want {
			t.Errorf("banger %s:\n got %q\nwant %q", strings.Join(c.args, " "), r.Stderr, c.want)
		}
	}
	// Nothing was created by any of them.
	var list []vmJSON
	e.JSON(&list, "vm", "list")
	if len(list) != 0 {
		t.Fatalf("refused commands left VMs: %+v", list)
	}
}
