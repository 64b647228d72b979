// Package sshclient connects to VMs over SSH with the user's key and the
// host keys banger pinned (package sshkeys): readiness probes, command
// execution over golang.org/x/crypto/ssh, and the argv/config that let the
// system ssh client reach VMs without prompts.
package sshclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/bangerdev/banger/internal/sshkeys"
)

// Target is one VM as an SSH destination.
type Target struct {
	// Addr is "ip" (port 22) or "host:port".
	Addr string
	// User defaults to "root".
	User string
	// KeyPath is the user's private key (see EnsureUserKey).
	KeyPath string
	// Signer, when set, is used instead of reading KeyPath.
	Signer ssh.Signer
	// HostKey is the VM's pinned host public key (authorized_keys format).
	// When set it is the only key accepted; otherwise KnownHosts is used.
	HostKey string
	// KnownHosts is banger's known_hosts file.
	KnownHosts string
}

// handshakeTimeout bounds one connection attempt; TCG guests are slow.
const handshakeTimeout = 20 * time.Second

func (t Target) user() string {
	if t.User == "" {
		return "root"
	}
	return t.User
}

func (t Target) hostPort() (host, port string) {
	if h, p, err := net.SplitHostPort(t.Addr); err == nil {
		return h, p
	}
	return t.Addr, "22"
}

func (t Target) dialAddr() string {
	h, p := t.hostPort()
	return net.JoinHostPort(h, p)
}

// signer returns the user's key: Signer, else the key at KeyPath.
func (t Target) signer() (ssh.Signer, error) {
	if t.Signer != nil {
		return t.Signer, nil
	}
	if t.KeyPath == "" {
		return nil, errors.New("ssh: no user key given")
	}
	data, err := os.ReadFile(t.KeyPath)
	if err != nil {
		return nil, fmt.Errorf("ssh: read key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("ssh: key %s: %w", t.KeyPath, err)
	}
	return signer, nil
}

// clientConfig builds the x/crypto/ssh config with the user's key; it
// never accepts an unverified host key.
func (t Target) clientConfig() (*ssh.ClientConfig, error) {
	signer, err := t.signer()
	if err != nil {
		return nil, err
	}
	return t.clientConfigWith(ssh.PublicKeys(signer))
}

// clientConfigWith is clientConfig authenticating with auth.
func (t Target) clientConfigWith(auth ssh.AuthMethod) (*ssh.ClientConfig, error) {
	cfg := &ssh.ClientConfig{
		User:    t.user(),
		Auth:    []ssh.AuthMethod{auth},
		Timeout: handshakeTimeout,
	}
	switch {
	case t.HostKey != "":
		want, _, _, _, err := ssh.ParseAuthorizedKey([]byte(t.HostKey))
		if err != nil {
			return nil, fmt.Errorf("ssh: pinned host key: %w", err)
		}
		cfg.HostKeyAlgorithms = []string{want.Type()}
		cfg.HostKeyCallback = func(host string, _ net.Addr, key ssh.PublicKey) error {
			if bytes.Equal(key.Marshal(), want.Marshal()) {
				return nil
			}
			return &sshkeys.HostKeyError{Host: host, Source: "the pinned key", Got: ssh.FingerprintSHA256(key), Pinned: []string{ssh.FingerprintSHA256(want)}}
		}
	case t.KnownHosts != "":
		cb, err := sshkeys.KnownHosts{Path: t.KnownHosts}.HostKeyCallback()
		if err != nil {
			return nil, err
		}
		cfg.HostKeyCallback = cb
	default:
		return nil, errors.New("ssh: no pinned host key or known_hosts given")
	}
	return cfg, nil
}

// dial connects and authenticates once.
func dial(ctx context.Context, t Target, cfg *ssh.ClientConfig) (*ssh.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	addr := t.dialAddr()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if !stop() || err != nil {
		conn.Close()
		if err == nil {
			err = ctx.Err()
		}
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), nil
}

// Exec runs cmd on the VM (through the remote user's shell) and returns its
// exit code. stdin may be nil; stdout and stderr may be nil to discard. err
// is set only when the command could not be run or its status is unknown.
func Exec(ctx context.Context, t Target, cmd string, stdin io.Reader, stdout, stderr io.Writer) (exitCode int, err error) {
	cfg, err := t.clientConfig()
	if err != nil {
		return -1, err
	}
	c, err := dial(ctx, t, cfg)
	if err != nil {
		return -1, fmt.Errorf("ssh to %s: %w", t.dialAddr(), err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	s, err := c.NewSession()
	if err != nil {
		return -1, fmt.Errorf("ssh to %s: open session: %w", t.dialAddr(), err)
	}
	defer s.Close()
	s.Stdin, s.Stdout, s.Stderr = stdin, stdout, stderr
	if stdout == nil {
		s.Stdout = io.Discard
	}
	if stderr == nil {
		s.Stderr = io.Discard
	}
	err = s.Run(cmd)
	var ee *ssh.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		// x/crypto/ssh reports a signal death as 128+n, like a shell.
		return ee.ExitStatus(), nil
	case ctx.Err() != nil:
		return -1, fmt.Errorf("ssh to %s: %q: %w", t.dialAddr(), cmd, ctx.Err())
	}
	return -1, fmt.Errorf("ssh to %s: %q: %w", t.dialAddr(), cmd, err)
}
