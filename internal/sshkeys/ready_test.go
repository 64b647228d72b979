package sshkeys

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// Probe proves the host key and that the user's key is accepted without
// logging in; a key the server does not accept fails.
func TestProbeChecksKeysWithoutLoggingIn(t *testing.T) {
	f := newFixture(t)
	s := f.start(t, "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Probe(ctx, Target{Addr: s.Addr, KeyPath: f.keyPath, HostKey: f.hostPub}); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if s.Conns() != 1 || s.Logins() != 0 {
		t.Errorf("probe made %d connections and %d logins, want 1 and 0", s.Conns(), s.Logins())
	}

	other := filepath.Join(t.TempDir(), "other")
	if _, err := EnsureUserKey(other); err != nil {
		t.Fatal(err)
	}
	if err := Probe(ctx, Target{Addr: s.Addr, KeyPath: other, HostKey: f.hostPub}); err == nil {
		t.Error("probe with a key the server does not accept passed")
	}
	_, otherPub := hostKey(t)
	var he *HostKeyError
	if err := Probe(ctx, Target{Addr: s.Addr, KeyPath: f.keyPath, HostKey: otherPub}); !errors.As(err, &he) {
		t.Errorf("probe against another host key: %v, want a HostKeyError", err)
	}
}

// The guest's ready signal (kick) ends a long backoff at once: a server
// that appears while WaitReady sleeps is reached within milliseconds of
// the kick, not at the next 2 s attempt, and with one connection.
func TestWaitReadyKickEndsBackoff(t *testing.T) {
	f := newFixture(t)
	addr := freeAddr(t)
	target := Target{Addr: addr, KeyPath: f.keyPath, HostKey: f.hostPub}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	kick := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- WaitReady(ctx, target, kick) }()
	// Refused attempts at 0, 0.1, 0.3, 0.7, 1.5 s; the next would be at 3.1 s.
	time.Sleep(1600 * time.Millisecond)
	s := f.start(t, addr)
	kicked := time.Now()
	close(kick)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if took := time.Since(kicked); took > 500*time.Millisecond {
		t.Errorf("ready %v after the kick; the backoff was not cut short", took)
	}
	if s.Conns() != 1 {
		t.Errorf("%d connections after the kick, want 1", s.Conns())
	}
}
