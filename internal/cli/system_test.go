package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/backend"
)

// TestDoctorBeforeSetupIsOneLine: an account system install has not set
// up gets one line saying what to run, and no daemon is started for it.
func TestDoctorBeforeSetupIsOneLine(t *testing.T) {
	var out bytes.Buffer
	e := &Env{Out: &out, Err: &out, In: strings.NewReader(""), Getenv: func(string) string { return "" }, Output: "text"}
	e.Connect = func(context.Context) (backend.Backend, error) {
		t.Fatal("doctor started a daemon for an account that is not set up")
		return nil, nil
	}
	e.NetPrivileged = func() error {
		return errors.New("this account is not set up for banger yet: run 'sudo banger system install --user $USER' once")
	}
	root := NewRootCmd(e)
	root.SetArgs([]string{"doctor"})
	err := root.Execute()
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 1 {
		t.Fatalf("err = %v; want exit 1", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "sudo banger system install") {
		t.Fatalf("output = %q; want one line naming system install", out.String())
	}
}

// TestSSHConfigGoesThroughBanger: the block reaches VMs with banger's own
// proxy, so no host DNS for .vm is needed.
func TestSSHConfigGoesThroughBanger(t *testing.T) {
	out, _, err := run(t, nil, "ssh-config")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Host *.vm") || !strings.Contains(out, "vm proxy %h %p") {
		t.Fatalf("block lacks the proxy:\n%s", out)
	}
}
