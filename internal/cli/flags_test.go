package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/api/client"
)

// testEnv is an Env whose Connect fails loudly: flag tests must never reach
// a daemon.
func testEnv() (*Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	e := &Env{Out: &out, Err: &errb, In: strings.NewReader(""), Getenv: func(string) string { return "" }, Output: "text"}
	e.Connect = func(context.Context) (*client.Client, error) { return nil, errors.New("test must not connect") }
	return e, &out, &errb
}

func execute(cmd *cobra.Command, args ...string) error {
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	return cmd.Execute()
}

func TestVMCreateFlags(t *testing.T) {
	e, _, _ := testEnv()
	var got *CreateOptions
	cmd := newVMCreateCmd(e, func(o *CreateOptions) error { got = o; return nil })
	if err := execute(cmd, "--name", "calm-otter", "--disk-size", "16G", "--memory", "2048", "--vcpu", "4", "--nat", "--no-wait", "--image", "dev"); err != nil {
		t.Fatal(err)
	}
	req, err := got.request()
	if err != nil {
		t.Fatal(err)
	}
	if req.Name != "calm-otter" || req.DiskSize != 16<<30 || req.MemoryMiB != 2048 || req.VCPUs != 4 || !req.NAT || !req.NoWait || req.Image != "dev" {
		t.Fatalf("request = %+v", req)
	}
}

func TestVMCreateRejectsBadSizeAndArgs(t *testing.T) {
	o := &CreateOptions{DiskSize: "lots"}
	if _, err := o.request(); err == nil || !strings.Contains(err.Error(), `invalid --disk-size "lots"`) {
		t.Fatalf("bad size: %v", err)
	}
	e, _, _ := testEnv()
	cmd := newVMCreateCmd(e, func(*CreateOptions) error { t.Fatal("run called"); return nil })
	if err := execute(cmd, "stray-arg"); err == nil || !strings.Contains(err.Error(), "expects no arguments") {
		t.Fatalf("positional arg: %v", err)
	}
}

func TestVMSetFlags(t *testing.T) {
	e, _, _ := testEnv()
	var got *SetOptions
	cmd := newVMSetCmd(e, func(o *SetOptions) error { got = o; return nil })
	if err := execute(cmd, "web", "--memory", "4096", "--no-nat"); err != nil {
		t.Fatal(err)
	}
	req, err := got.request()
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "web" || req.MemoryMiB == nil || *req.MemoryMiB != 4096 || req.VCPUs != nil || req.DiskSize != nil || req.NAT == nil || *req.NAT {
		t.Fatalf("request = %+v", req)
	}
	// --memory 0 given explicitly is sent (and refused by the daemon), not ignored.
	cmd = newVMSetCmd(e, func(o *SetOptions) error { got = o; return nil })
	if err := execute(cmd, "web", "--memory", "0"); err != nil {
		t.Fatal(err)
	}
	if req, _ := got.request(); req.MemoryMiB == nil {
		t.Fatal("explicit --memory 0 dropped")
	}
	if _, err := (&SetOptions{Name: "web"}).request(); err == nil || !strings.Contains(err.Error(), "nothing to change") {
		t.Fatalf("empty set: %v", err)
	}
	if _, err := (&SetOptions{NAT: true, NoNAT: true}).request(); err == nil || !strings.Contains(err.Error(), "contradict") {
		t.Fatalf("nat conflict: %v", err)
	}
}

func TestVMDeleteFlags(t *testing.T) {
	e, _, _ := testEnv()
	var got *DeleteOptions
	cmd := newVMDeleteCmd(e, func(o *DeleteOptions) error { got = o; return nil })
	if err := execute(cmd, "--force", "a", "b"); err != nil {
		t.Fatal(err)
	}
	if !got.Force || strings.Join(got.Names, ",") != "a,b" {
		t.Fatalf("options = %+v", got)
	}
	cmd = newVMDeleteCmd(e, func(o *DeleteOptions) error { t.Fatal("run called"); return nil })
	if err := execute(cmd); err == nil || !strings.Contains(err.Error(), "at least one VM name") {
		t.Fatalf("no names: %v", err)
	}
}

func TestImageBuildFlags(t *testing.T) {
	e, _, _ := testEnv()
	var got *ImageBuildOptions
	cmd := newImageBuildCmd(e, func(o *ImageBuildOptions) error { got = o; return nil })
	if err := execute(cmd, "--name", "docker-dev", "--docker", "--package", "jq", "--package", "ripgrep"); err != nil {
		t.Fatal(err)
	}
	if got.Name != "docker-dev" || !got.Docker || strings.Join(got.Packages, ",") != "jq,ripgrep" {
		t.Fatalf("options = %+v", got)
	}
	cmd = newImageBuildCmd(e, func(o *ImageBuildOptions) error { t.Fatal("run called"); return nil })
	if err := execute(cmd); err == nil || !strings.Contains(err.Error(), "needs --name") {
		t.Fatalf("missing name: %v", err)
	}
}

func TestShellJoin(t *testing.T) {
	cases := map[string][]string{
		"uname -a":                 {"uname", "-a"},
		"echo 'a b' 'it'\\''s'":    {"echo", "a b", "it's"},
		"cat /root/x.txt":          {"cat", "/root/x.txt"},
		"echo hi > /tmp/f && sync": {"echo hi > /tmp/f && sync"},
	}
	for want, args := range cases {
		if got := shellJoin(args); got != want {
			t.Errorf("shellJoin(%q) = %q, want %q", args, got, want)
		}
	}
}

func TestUnknownOutputFormatRefused(t *testing.T) {
	e, _, _ := testEnv()
	root := NewRootCmd(e)
	err := execute(root, "--output", "yaml", "version")
	if err == nil || err.Error() != `invalid --output "yaml": use text or json` {
		t.Fatalf("err = %v", err)
	}
}
