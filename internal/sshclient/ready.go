package sshclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/bangerdev/banger/internal/sshkeys"
)

// Readiness backoff: slow while nothing says the guest is up, fast once it
// has said so (sshd may need a moment between saying and accepting) or
// once its kernel answers with a refusal (it is up and sshd is next; a
// refused connection costs the guest nothing but a reset).
const (
	pollFirst   = 100 * time.Millisecond
	pollMax     = 2 * time.Second
	pollKick    = 20 * time.Millisecond
	pollRefused = 25 * time.Millisecond
)

// dialTCP connects; a variable so tests can model a guest that drops
// connection attempts (no network yet) rather than refusing them.
var dialTCP = func(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// errProbeDone ends a probe's authentication once the server has accepted
// the user's key: the probe never signs, so no login session is opened.
var errProbeDone = errors.New("probe: user key accepted, not logging in")

// probeSigner wraps the user's signer for a readiness probe. Its Sign is
// only reached after the server answered that the key is acceptable
// (SSH_MSG_USERAUTH_PK_OK, RFC 4252 section 7); it records that and
// refuses to sign.
type probeSigner struct {
	ssh.Signer
	accepted *atomic.Bool
}

// Sign records the server's acceptance of the key and stops there.
func (p probeSigner) Sign(io.Reader, []byte) (*ssh.Signature, error) {
	p.accepted.Store(true)
	return nil, errProbeDone
}

// Probe makes one SSH connection that must prove the pinned host key (the
// key exchange) and accept the user's key (a signature-less public key
// query), then closes it without logging in. It is what readiness checks:
// a guest's sshd answers it without forking a login session or running
// PAM, which under emulation halves the cost of a full login. A host key
// mismatch is a *sshkeys.HostKeyError.
func Probe(ctx context.Context, t Target) error {
	return probe(ctx, t, nil)
}

// probe is Probe; a connection attempt that has not reached the server
// when kick closes is abandoned with errKicked (kick may be nil).
func probe(ctx context.Context, t Target, kick <-chan struct{}) error {
	signer, err := t.signer()
	if err != nil {
		return err
	}
	var accepted atomic.Bool
	cfg, err := t.clientConfigWith(ssh.PublicKeys(probeSigner{Signer: signer, accepted: &accepted}))
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	conn, err := dialKickable(ctx, t.dialAddr(), kick)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, chans, reqs, err := ssh.NewClientConn(conn, t.dialAddr(), cfg)
	if err == nil {
		// A server that lets the user in without asking for a signature
		// has accepted the user too.
		ssh.NewClient(c, chans, reqs).Close()
		return nil
	}
	var he *sshkeys.HostKeyError
	switch {
	case errors.As(err, &he):
		return he
	case accepted.Load():
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return err
}

// errKicked marks a connection attempt abandoned because the guest said
// sshd is up: a fresh attempt reaches it sooner than one stuck in ARP or
// SYN retries.
var errKicked = errors.New("connection attempt restarted after the guest's ready signal")

// dialKickable connects to addr; if kick closes before the connection is
// established (and was open when the attempt began) the attempt ends.
func dialKickable(ctx context.Context, addr string, kick <-chan struct{}) (net.Conn, error) {
	if kick == nil || closed(kick) {
		return dialTCP(ctx, addr)
	}
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var kicked atomic.Bool
	go func() {
		select {
		case <-kick:
			kicked.Store(true)
			cancel()
		case <-dctx.Done():
		}
	}()
	conn, err := dialTCP(dctx, addr)
	if err != nil && kicked.Load() && ctx.Err() == nil {
		return nil, errKicked
	}
	return conn, err
}

// closed reports whether ch is closed (never blocks).
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// WaitReady probes the VM (see Probe) until it passes or ctx ends; the
// error then names the last failure. A host key mismatch fails at once.
// Attempts back off from 100 ms to 2 s while connections go unanswered
// (the guest has no network yet); once the guest's kernel refuses them
// (up, sshd not yet listening) they follow every 25 ms, so the probe
// starts within that of sshd listening. When kick closes (the guest said
// sshd is up) a wait ends, an attempt still trying to connect is
// restarted, and later attempts follow within 20 ms. Only one handshake
// is ever in flight. kick may be nil.
func WaitReady(ctx context.Context, t Target, kick <-chan struct{}) error {
	// Read and parse the user's key once, not at every attempt, and fail
	// at once on a configuration no retry can fix.
	signer, err := t.signer()
	if err != nil {
		return err
	}
	t.Signer = signer
	if _, err := t.clientConfig(); err != nil {
		return err
	}
	start := time.Now()
	delay := pollFirst
	for {
		err := probe(ctx, t, kick)
		if err == nil {
			return nil
		}
		var he *sshkeys.HostKeyError
		if errors.As(err, &he) {
			return fmt.Errorf("ssh to %s: %w", t.dialAddr(), he)
		}
		refused := errors.Is(err, syscall.ECONNREFUSED)
		switch {
		case kick != nil && closed(kick):
			delay = pollKick
		case refused:
			delay = pollRefused
		}
		if errors.Is(err, errKicked) {
			continue
		}
		var wake <-chan struct{}
		if kick != nil && !closed(kick) {
			wake = kick
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("ssh to %s not ready after %s: last failure: %v: check the VM console log", t.dialAddr(), time.Since(start).Round(time.Second), err)
		case <-wake:
			delay = pollKick
		case <-time.After(delay):
			if (kick == nil || !closed(kick)) && !refused {
				delay = min(delay*2, pollMax)
			}
		}
	}
}
