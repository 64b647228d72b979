package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// testEnv is an Env with no backend: flag tests must never reach a daemon.
func testEnv() *Env {
	e := &Env{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}, In: strings.NewReader(""), Getenv: func(string) string { return "" }, Output: "text"}
	e.Connect = nil // a call would panic: runF must stop every verb first
	return e
}

func execute(cmd *cobra.Command, args ...string) error {
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	return cmd.Execute()
}

func TestVMCreateFlags(t *testing.T) {
	var got *VMCreateOptions
	cmd := newVMCreateCmd(testEnv(), func(o *VMCreateOptions) error { got = o; return nil })
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
	// No resource flags: zero values, which the daemon fills from the config.
	cmd = newVMCreateCmd(testEnv(), func(o *VMCreateOptions) error { got = o; return nil })
	if err := execute(cmd, "--name", "plain"); err != nil {
		t.Fatal(err)
	}
	if req, err := got.request(); err != nil || req.MemoryMiB != 0 || req.VCPUs != 0 || req.DiskSize != 0 {
		t.Fatalf("defaults: %+v %v", req, err)
	}
}

// resourceRefusals are explicit out-of-range values, zero included, and
// the message bangerd would give for each.
var resourceRefusals = []struct {
	flags []string
	want  string
}{
	{[]string{"--memory", "0"}, "invalid memory 0 MiB: use 128 to 65536 MiB"},
	{[]string{"--memory", "64"}, "invalid memory 64 MiB: use 128 to 65536 MiB"},
	{[]string{"--memory", "70000"}, "invalid memory 70000 MiB: use 128 to 65536 MiB"},
	{[]string{"--vcpu", "0"}, "invalid vcpu count 0: use 1 to 32"},
	{[]string{"--vcpu", "-1"}, "invalid vcpu count -1: use 1 to 32"},
	{[]string{"--vcpu", "99"}, "invalid vcpu count 99: use 1 to 32"},
	{[]string{"--disk-size", "0"}, "invalid disk size 0: use 1G to 2T"},
	{[]string{"--disk-size", "0G"}, "invalid disk size 0: use 1G to 2T"},
	{[]string{"--disk-size", "512M"}, "invalid disk size 512M: use 1G to 2T"},
	{[]string{"--disk-size", "3T"}, "invalid disk size 3T: use 1G to 2T"},
}

func TestVMCreateRefusesOutOfRangeResources(t *testing.T) {
	for _, c := range resourceRefusals {
		var got *VMCreateOptions
		cmd := newVMCreateCmd(testEnv(), func(o *VMCreateOptions) error { got = o; return nil })
		if err := execute(cmd, append([]string{"--name", "ok"}, c.flags...)...); err != nil {
			t.Fatalf("%v: parse: %v", c.flags, err)
		}
		if _, err := got.request(); err == nil || err.Error() != c.want {
			t.Errorf("create %v: err %v, want %q", c.flags, err, c.want)
		}
	}
	// The run function refuses before it connects (testEnv has no backend).
	_, _, err := run(t, nil, "vm", "create", "--memory", "0")
	if err == nil || err.Error() != "invalid memory 0 MiB: use 128 to 65536 MiB" {
		t.Fatalf("vm create --memory 0: %v", err)
	}
}

func TestVMCreateRejectsBadSizeAndArgs(t *testing.T) {
	o := &VMCreateOptions{ResourceFlags: ResourceFlags{DiskSize: "lots"}}
	if _, err := o.request(); err == nil || !strings.Contains(err.Error(), `invalid --disk-size "lots"`) {
		t.Fatalf("bad size: %v", err)
	}
	cmd := newVMCreateCmd(testEnv(), func(*VMCreateOptions) error { t.Fatal("run called"); return nil })
	if err := execute(cmd, "stray-arg"); err == nil || !strings.Contains(err.Error(), "expects no arguments") {
		t.Fatalf("positional arg: %v", err)
	}
}

func TestVMSetFlags(t *testing.T) {
	var got *VMSetOptions
	cmd := newVMSetCmd(testEnv(), func(o *VMSetOptions) error { got = o; return nil })
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
	if _, err := (&VMSetOptions{Name: "web"}).request(); err == nil || !strings.Contains(err.Error(), "nothing to change") {
		t.Fatalf("empty set: %v", err)
	}
	if _, err := (&VMSetOptions{NAT: true, NoNAT: true}).request(); err == nil || !strings.Contains(err.Error(), "contradict") {
		t.Fatalf("nat conflict: %v", err)
	}
}

func TestVMSetRefusesOutOfRangeResources(t *testing.T) {
	for _, c := range resourceRefusals {
		var got *VMSetOptions
		cmd := newVMSetCmd(testEnv(), func(o *VMSetOptions) error { got = o; return nil })
		if err := execute(cmd, append([]string{"web"}, c.flags...)...); err != nil {
			t.Fatalf("%v: parse: %v", c.flags, err)
		}
		if _, err := got.request(); err == nil || err.Error() != c.want {
			t.Errorf("set %v: err %v, want %q", c.flags, err, c.want)
		}
	}
	_, _, err := run(t, nil, "vm", "set", "web", "--vcpu", "0")
	if err == nil || err.Error() != "invalid vcpu count 0: use 1 to 32" {
		t.Fatalf("vm set --vcpu 0: %v", err)
	}
}

func TestVMDeleteFlags(t *testing.T) {
	var got *VMDeleteOptions
	cmd := newVMDeleteCmd(testEnv(), func(o *VMDeleteOptions) error { got = o; return nil })
	if err := execute(cmd, "--force", "a", "b"); err != nil {
		t.Fatal(err)
	}
	if !got.Force || strings.Join(got.Names, ",") != "a,b" {
		t.Fatalf("options = %+v", got)
	}
	cmd = newVMDeleteCmd(testEnv(), func(o *VMDeleteOptions) error { t.Fatal("run called"); return nil })
	if err := execute(cmd); err == nil || !strings.Contains(err.Error(), "at least one VM name") {
		t.Fatalf("no names: %v", err)
	}
}

func TestVMPowerAndRemoteFlags(t *testing.T) {
	var kill *VMKillOptions
	if err := execute(newVMKillCmd(testEnv(), func(o *VMKillOptions) error { kill = o; return nil }), "web", "-s", "TERM"); err != nil || kill.Name != "web" || kill.Signal != "TERM" {
		t.Fatalf("kill: %+v %v", kill, err)
	}
	var start *VMStartOptions
	if err := execute(newVMStartCmd(testEnv(), func(o *VMStartOptions) error { start = o; return nil }), "db", "--no-wait"); err != nil || start.Name != "db" || !start.NoWait {
		t.Fatalf("start: %+v %v", start, err)
	}
	var ex *VMExecOptions
	if err := execute(newVMExecCmd(testEnv(), func(o *VMExecOptions) error { ex = o; return nil }), "-i", "web", "--", "uname", "-a"); err != nil ||
		ex.Name != "web" || !ex.Stdin || strings.Join(ex.Command, " ") != "uname -a" {
		t.Fatalf("exec: %+v %v", ex, err)
	}
	var ssh *VMSSHOptions
	if err := execute(newVMSSHCmd(testEnv(), func(o *VMSSHOptions) error { ssh = o; return nil }), "web"); err != nil || ssh.Name != "web" || len(ssh.Command) != 0 {
		t.Fatalf("ssh: %+v %v", ssh, err)
	}
	var logs *VMLogsOptions
	if err := execute(newVMLogsCmd(testEnv(), func(o *VMLogsOptions) error { logs = o; return nil }), "-f", "web"); err != nil || logs.Name != "web" || !logs.Follow {
		t.Fatalf("logs: %+v %v", logs, err)
	}
}

func TestImageBuildFlags(t *testing.T) {
	var got *ImageBuildOptions
	cmd := newImageBuildCmd(testEnv(), func(o *ImageBuildOptions) error { got = o; return nil })
	if err := execute(cmd, "--name", "docker-dev", "--docker", "--package", "jq", "--package", "ripgrep", "--size", "4G"); err != nil {
		t.Fatal(err)
	}
	req, err := got.request()
	if err != nil || req.Name != "docker-dev" || !req.Docker || strings.Join(req.Packages, ",") != "jq,ripgrep" || req.Size != 4<<30 {
		t.Fatalf("request = %+v %v", req, err)
	}
	cmd = newImageBuildCmd(testEnv(), func(o *ImageBuildOptions) error { t.Fatal("run called"); return nil })
	if err := execute(cmd); err == nil || !strings.Contains(err.Error(), "needs --name") {
		t.Fatalf("missing name: %v", err)
	}
}

func TestImageSave(t *testing.T) {
	be := newFake()
	out, _, err := run(t, be, "image", "save", "web", "--name", "web-tools", "--stop")
	if err != nil || !strings.Contains(out, "image web-tools saved from web") || strings.Join(be.calls, ";") != "save image web-tools from web stop=true" {
		t.Fatalf("save: out %q err %v calls %v", out, err, be.calls)
	}
	if _, _, err := run(t, nil, "image", "save", "web"); err == nil || !strings.Contains(err.Error(), "needs --name") {
		t.Fatalf("missing --name: %v", err)
	}
	if _, _, err := run(t, be, "image", "save", "nope", "--name", "x"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("unknown VM: %v", err)
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
	_, _, err := run(t, nil, "--output", "yaml", "version")
	if err == nil || err.Error() != `invalid --output "yaml": use text or json` {
		t.Fatalf("err = %v", err)
	}
}

func TestBundleFlags(t *testing.T) {
	var build *BundleBuildOptions
	cmd := newBundleBuildCmd(testEnv(), func(o *BundleBuildOptions) error { build = o; return nil })
	if err := execute(cmd, "--dir", "rt", "--kernel", "both", "--suite", "trixie", "--cache-dir", "/c"); err != nil {
		t.Fatal(err)
	}
	if build.Dir != "rt" || build.Build.Kernel != "both" || build.Build.Suite != "trixie" || build.Build.CacheDir != "/c" || build.Build.Mirror == "" {
		t.Fatalf("build options = %+v", build)
	}
	var pkg *BundlePackageOptions
	cmd = newBundlePackageCmd(testEnv(), func(o *BundlePackageOptions) error { pkg = o; return nil })
	if err := execute(cmd, "--write-manifest"); err != nil {
		t.Fatal(err)
	}
	if !pkg.WriteManifest || pkg.Out != "dist/banger-runtime.tar.gz" {
		t.Fatalf("package options = %+v", pkg)
	}
}
