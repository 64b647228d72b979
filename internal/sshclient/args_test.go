package sshclient

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/execx"
)

func TestSSHArgs(t *testing.T) {
	got := SSHArgs(Target{Addr: "172.30.0.2", KeyPath: "/k/id", KnownHosts: "/s/known_hosts"}, []string{"uname", "-a"})
	want := []string{"ssh", "-i", "/k/id", "-o", "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=/s/known_hosts",
		"-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes", "-o", "UpdateHostKeys=no",
		"-o", "LogLevel=ERROR", "--", "root@172.30.0.2", "uname", "-a"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("argv =\n%q\nwant\n%q", got, want)
	}
	got = SSHArgs(Target{Addr: "127.0.0.1:2222", User: "dev", KeyPath: "/k/100%", KnownHosts: "/kh"}, nil)
	if s := strings.Join(got, " "); !strings.Contains(s, "-i /k/100%% ") || !strings.HasSuffix(s, "-p 2222 -- dev@127.0.0.1") {
		t.Errorf("argv = %q", got)
	}
}

// TestSystemSSH runs /usr/bin/ssh with SSHArgs against the in-process
// server: the pinned host key must be verified without any prompt.
func TestSystemSSH(t *testing.T) {
	if !execx.Have("ssh") {
		t.Skip("ssh client not installed")
	}
	f := newFixture(t)
	s := f.start(t, "127.0.0.1:0")
	if err := f.kh.Pin([]string{"calm-otter", "calm-otter.vm", s.Addr}, f.hostPub); err != nil {
		t.Fatal(err)
	}
	target := Target{Addr: s.Addr, KeyPath: f.keyPath, KnownHosts: f.kh.Path}
	khBefore, _ := os.ReadFile(f.kh.Path)

	out, err := execx.Run(t.Context(), execx.Cmd{Args: SSHArgs(target, []string{"echo", "hi", "from", "vm"})})
	if err != nil || string(out) != "hi from vm\n" {
		t.Fatalf("ssh: out %q err %v", out, err)
	}
	_, err = execx.Run(t.Context(), execx.Cmd{Args: SSHArgs(target, []string{"exit", "7"})})
	var ee *execx.Error
	if !errors.As(err, &ee) || ee.ExitCode != 7 || ee.Stderr != "exiting 7" {
		t.Errorf("exit status not passed through: %v", err)
	}
	if khAfter, _ := os.ReadFile(f.kh.Path); string(khAfter) != string(khBefore) {
		t.Errorf("ssh modified banger's known_hosts:\n%s", khAfter)
	}

	// A different pinned key makes ssh refuse, without prompting.
	_, otherPub := hostKey(t)
	if err := f.kh.Pin([]string{s.Addr}, otherPub); err != nil {
		t.Fatal(err)
	}
	_, err = execx.Run(t.Context(), execx.Cmd{Args: SSHArgs(target, []string{"echo", "hi"}), Stdin: []byte{}})
	if !errors.As(err, &ee) || ee.ExitCode != 255 || !strings.Contains(ee.Stderr, "Host key verification failed") {
		t.Errorf("ssh with a wrong pinned key: %v", err)
	}
	// An unpinned host is refused too.
	if err := f.kh.Unpin([]string{s.Addr}); err != nil {
		t.Fatal(err)
	}
	_, err = execx.Run(t.Context(), execx.Cmd{Args: SSHArgs(target, []string{"echo", "hi"}), Stdin: []byte{}})
	if !errors.As(err, &ee) || ee.ExitCode != 255 {
		t.Errorf("ssh to an unpinned host: %v", err)
	}
}

// TestConfigBlock checks what the system ssh resolves from the block.
func TestConfigBlock(t *testing.T) {
	if !execx.Have("ssh") {
		t.Skip("ssh client not installed")
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "my keys", "id_ed25519")
	kh := filepath.Join(dir, "known_hosts")
	block := ConfigBlock(Options{KeyPath: key, KnownHosts: kh})
	cfg := filepath.Join(dir, "config")
	if err := os.WriteFile(cfg, []byte(block), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := execx.Output(t.Context(), "ssh", "-G", "-F", cfg, "calm-otter.vm")
	if err != nil {
		t.Fatal(err)
	}
	resolved := string(out)
	for _, want := range []string{
		"\nhostname calm-otter.vm\n", "\nuser root\n", "\nidentityfile " + key + "\n", "\nidentitiesonly yes\n",
		"\nuserknownhostsfile " + kh + "\n", "\nglobalknownhostsfile /dev/null\n", "\nstricthostkeychecking true\n",
		"\nupdatehostkeys false\n", "\nloglevel ERROR\n", "\nport 22\n",
	} {
		if !strings.Contains(resolved, want) {
			t.Errorf("ssh -G lacks %q; block:\n%s", strings.TrimSpace(want), block)
		}
	}
	other, err := execx.Output(t.Context(), "ssh", "-G", "-F", cfg, "example.org")
	if err != nil || strings.Contains(string(other), kh) {
		t.Errorf("block applies outside *.vm: %v", err)
	}
	if b := ConfigBlock(Options{KeyPath: "/k", KnownHosts: "/kh", Domain: "dev.test", User: "me"}); !strings.Contains(b, "Host *.dev.test\n    User me\n") {
		t.Errorf("custom domain block:\n%s", b)
	}
}
