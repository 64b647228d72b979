package sshclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/bangerdev/banger/internal/sshclient/sshtest"
	"github.com/bangerdev/banger/internal/sshkeys"
)

// handler is a tiny command interpreter for the test server.
func handler(cmd string, stdin io.Reader, stdout, stderr io.Writer) int {
	f := strings.Fields(cmd)
	switch {
	case len(f) == 0:
		return 0
	case f[0] == "echo":
		fmt.Fprintln(stdout, strings.Join(f[1:], " "))
		return 0
	case f[0] == "cat":
		io.Copy(stdout, stdin)
		return 0
	case f[0] == "exit" && len(f) == 2:
		n, _ := strconv.Atoi(f[1])
		fmt.Fprintf(stderr, "exiting %d\n", n)
		return n
	}
	fmt.Fprintf(stderr, "%s: command not found\n", f[0])
	return 127
}

type fixture struct {
	keyPath, hostPub string
	hostSigner       ssh.Signer
	kh               sshkeys.KnownHosts
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	f := fixture{keyPath: filepath.Join(dir, "id_ed25519"), kh: sshkeys.KnownHosts{Path: filepath.Join(dir, "known_hosts")}}
	if _, err := sshkeys.EnsureUserKey(f.keyPath); err != nil {
		t.Fatal(err)
	}
	f.hostSigner, f.hostPub = hostKey(t)
	return f
}

func (f fixture) start(t *testing.T, addr string) *sshtest.Server {
	t.Helper()
	pubLine, _ := os.ReadFile(f.keyPath + ".pub")
	userPub, _, _, _, err := ssh.ParseAuthorizedKey(pubLine)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sshtest.Start(addr, f.hostSigner, userPub, handler)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestWaitReadyClosedPortThenReady(t *testing.T) {
	f := newFixture(t)
	addr := freeAddr(t)
	target := Target{Addr: addr, KeyPath: f.keyPath, HostKey: f.hostPub}

	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	err := WaitReady(ctx, target, nil)
	if err == nil || !strings.Contains(err.Error(), "not ready") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("closed port: %v", err)
	}

	// A server that appears while WaitReady is retrying is picked up.
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- WaitReady(ctx, target, nil)
	}()
	time.Sleep(300 * time.Millisecond)
	f.start(t, addr)
	if err := <-done; err != nil {
		t.Fatalf("server up: %v", err)
	}
}

func TestWaitReadyWrongHostKey(t *testing.T) {
	f := newFixture(t)
	s := f.start(t, "127.0.0.1:0")
	_, otherPub := hostKey(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	err := WaitReady(ctx, Target{Addr: s.Addr, KeyPath: f.keyPath, HostKey: otherPub}, nil)
	var he *sshkeys.HostKeyError
	if !errors.As(err, &he) || !strings.Contains(err.Error(), "host key mismatch") {
		t.Fatalf("wrong host key: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("host key mismatch was retried instead of failing at once")
	}
	// The same through the managed known_hosts.
	if err := f.kh.Pin([]string{s.Addr}, otherPub); err != nil {
		t.Fatal(err)
	}
	if err := WaitReady(ctx, Target{Addr: s.Addr, KeyPath: f.keyPath, KnownHosts: f.kh.Path}, nil); !errors.As(err, &he) {
		t.Fatalf("known_hosts mismatch: %v", err)
	}
}

func TestWaitReadyWrongUserKey(t *testing.T) {
	f := newFixture(t)
	s := f.start(t, "127.0.0.1:0")
	other := filepath.Join(t.TempDir(), "other")
	if _, err := sshkeys.EnsureUserKey(other); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := WaitReady(ctx, Target{Addr: s.Addr, KeyPath: other, HostKey: f.hostPub}, nil)
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("wrong user key: %v", err)
	}
}

func TestExec(t *testing.T) {
	f := newFixture(t)
	s := f.start(t, "127.0.0.1:0")
	if err := f.kh.Pin([]string{s.Addr}, f.hostPub); err != nil {
		t.Fatal(err)
	}
	target := Target{Addr: s.Addr, KeyPath: f.keyPath, KnownHosts: f.kh.Path}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct {
		cmd, stdin, out, errOut string
		code                    int
	}{
		{"echo hello world", "", "hello world\n", "", 0},
		{"exit 3", "", "", "exiting 3\n", 3},
		{"cat", "from stdin", "from stdin", "", 0},
		{"nope", "", "", "nope: command not found\n", 127},
	} {
		var out, errOut bytes.Buffer
		var in io.Reader
		if tc.stdin != "" {
			in = strings.NewReader(tc.stdin)
		}
		code, err := Exec(ctx, target, tc.cmd, in, &out, &errOut)
		if err != nil || code != tc.code || out.String() != tc.out || errOut.String() != tc.errOut {
			t.Errorf("%q: code %d err %v out %q stderr %q", tc.cmd, code, err, out.String(), errOut.String())
		}
	}
	if _, err := Exec(ctx, Target{Addr: s.Addr, KeyPath: f.keyPath}, "echo", nil, nil, nil); err == nil {
		t.Error("exec without any host key check succeeded")
	}
}

// hostKey is a fresh VM host key: its signer and authorized_keys line.
func hostKey(t *testing.T) (ssh.Signer, string) {
	t.Helper()
	priv, pub, err := sshkeys.NewHostKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.ParsePrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, pub
}
