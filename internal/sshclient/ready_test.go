package sshclient

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/sshkeys"
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
	if _, err := sshkeys.EnsureUserKey(other); err != nil {
		t.Fatal(err)
	}
	if err := Probe(ctx, Target{Addr: s.Addr, KeyPath: other, HostKey: f.hostPub}); err == nil {
		t.Error("probe with a key the server does not accept passed")
	}
	_, otherPub := hostKey(t)
	var he *sshkeys.HostKeyError
	if err := Probe(ctx, Target{Addr: s.Addr, KeyPath: f.keyPath, HostKey: otherPub}); !errors.As(err, &he) {
		t.Errorf("probe against another host key: %v, want a sshkeys.HostKeyError", err)
	}
}

// A guest without network drops connection attempts; the ready signal
// (kick) abandons the attempt stuck connecting and ends the backoff at
// once, and the server is reached with one connection.
func TestWaitReadyKickEndsBackoff(t *testing.T) {
	f := newFixture(t)
	s := f.start(t, "127.0.0.1:0")
	var up atomic.Bool
	real := dialTCP
	dialTCP = func(ctx context.Context, addr string) (net.Conn, error) {
		if !up.Load() { // no network yet: the SYN goes unanswered
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return real(ctx, addr)
	}
	t.Cleanup(func() { dialTCP = real })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	kick := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- WaitReady(ctx, Target{Addr: s.Addr, KeyPath: f.keyPath, HostKey: f.hostPub}, kick) }()
	time.Sleep(500 * time.Millisecond)
	up.Store(true)
	kicked := time.Now()
	close(kick)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if took := time.Since(kicked); took > 500*time.Millisecond {
		t.Errorf("ready %v after the kick; the stuck attempt was not restarted", took)
	}
	if s.Conns() != 1 {
		t.Errorf("%d connections, want 1", s.Conns())
	}
}

// Refused connections (the guest is up, sshd not yet) are retried every
// 25 ms rather than with the growing backoff, so sshd is reached soon
// after it listens even without a ready signal.
func TestWaitReadyRefusedPollsFast(t *testing.T) {
	f := newFixture(t)
	addr := freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- WaitReady(ctx, Target{Addr: addr, KeyPath: f.keyPath, HostKey: f.hostPub}, nil) }()
	// With the growing backoff the attempts would be at 0, 0.1, 0.3, 0.7,
	// 1.5 and 3.1 s.
	time.Sleep(1600 * time.Millisecond)
	s := f.start(t, addr)
	listening := time.Now()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if took := time.Since(listening); took > 500*time.Millisecond {
		t.Errorf("ready %v after the server listened; refused attempts backed off", took)
	}
	if s.Conns() != 1 {
		t.Errorf("%d connections, want 1", s.Conns())
	}
}
