package sshkeys

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bangerdev/banger/internal/execx"
	"golang.org/x/crypto/ssh"
)

func hostKey(t *testing.T) (ssh.Signer, string) {
	t.Helper()
	priv, pub, err := NewHostKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.ParsePrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, pub
}

func TestKnownHostsPinReplaceUnpin(t *testing.T) {
	kh := KnownHosts{Path: filepath.Join(t.TempDir(), "state", "known_hosts")}
	s1, pub1 := hostKey(t)
	_, pub2 := hostKey(t)
	s3, pub3 := hostKey(t)
	if err := kh.Pin([]string{"calm-otter", "calm-otter.vm", "172.30.0.2"}, pub1); err != nil {
		t.Fatal(err)
	}
	if err := kh.Pin([]string{"Brave-Fox.vm", "172.30.0.3:22", "127.0.0.1:2222"}, pub3); err != nil {
		t.Fatal(err)
	}
	// Re-pinning calm-otter (e.g. recreated VM) replaces its entry.
	if err := kh.Pin([]string{"calm-otter", "calm-otter.vm", "172.30.0.2"}, pub2); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(kh.Path)
	text := string(data)
	if strings.Contains(text, strings.Fields(pub1)[1]) {
		t.Errorf("old key still pinned:\n%s", text)
	}
	for _, want := range []string{"calm-otter,calm-otter.vm,172.30.0.2 " + pub2, "brave-fox.vm,172.30.0.3,[127.0.0.1]:2222 " + pub3} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
	if execx.Have("ssh-keygen") { // OpenSSH reads the file
		out, err := execx.Output(t.Context(), "ssh-keygen", "-F", "[127.0.0.1]:2222", "-f", kh.Path)
		if err != nil || !strings.Contains(string(out), strings.Fields(pub3)[1]) {
			t.Errorf("ssh-keygen -F: %s %v", out, err)
		}
	}

	cb, err := kh.HostKeyCallback()
	if err != nil {
		t.Fatal(err)
	}
	addr := &net.TCPAddr{IP: net.ParseIP("172.30.0.3"), Port: 22}
	if err := cb("172.30.0.3:22", addr, s3.PublicKey()); err != nil {
		t.Errorf("pinned key rejected: %v", err)
	}
	var he *HostKeyError
	if err := cb("172.30.0.2:22", &net.TCPAddr{IP: net.ParseIP("172.30.0.2"), Port: 22}, s1.PublicKey()); !errors.As(err, &he) || len(he.Pinned) != 1 || !strings.Contains(err.Error(), "host key mismatch for 172.30.0.2:22") {
		t.Errorf("old key: %v", err)
	}
	if err := cb("10.9.9.9:22", &net.TCPAddr{IP: net.ParseIP("10.9.9.9"), Port: 22}, s3.PublicKey()); !errors.As(err, &he) || len(he.Pinned) != 0 || !strings.Contains(err.Error(), "not pinned") {
		t.Errorf("unknown host: %v", err)
	}

	if err := kh.Unpin([]string{"calm-otter", "calm-otter.vm", "172.30.0.2", "never-pinned"}); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(kh.Path)
	if strings.Contains(string(data), "calm-otter") || !strings.Contains(string(data), "brave-fox.vm") {
		t.Errorf("after unpin:\n%s", data)
	}
	if err := kh.Pin([]string{"a b"}, pub1); err == nil {
		t.Error("host with a space accepted")
	}
	if err := kh.Pin([]string{"x"}, "not a key"); err == nil {
		t.Error("bad key accepted")
	}
}

func TestKnownHostsConcurrentPins(t *testing.T) {
	kh := KnownHosts{Path: filepath.Join(t.TempDir(), "known_hosts")}
	_, pub := hostKey(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := kh.Pin([]string{fmt.Sprintf("vm%d.vm", i)}, pub); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	data, _ := os.ReadFile(kh.Path)
	for i := range 16 {
		if !strings.Contains(string(data), fmt.Sprintf("vm%d.vm ", i)) {
			t.Errorf("pin of vm%d lost:\n%s", i, data)
		}
	}
}

func TestKnownHostsMissingFile(t *testing.T) {
	s, _ := hostKey(t)
	cb, err := KnownHosts{Path: filepath.Join(t.TempDir(), "none")}.HostKeyCallback()
	if err != nil {
		t.Fatal(err)
	}
	var he *HostKeyError
	if err := cb("1.2.3.4:22", &net.TCPAddr{}, s.PublicKey()); !errors.As(err, &he) {
		t.Errorf("missing file accepted a key: %v", err)
	}
}
