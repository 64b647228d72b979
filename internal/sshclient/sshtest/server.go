// Package sshtest runs a small SSH server in-process for tests: it
// authenticates one public key, presents a given host key and hands "exec"
// and "shell" sessions to a Go handler, returning its exit status the way
// sshd does. Both golang.org/x/crypto/ssh clients and the system ssh work
// against it.
package sshtest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/ssh"
)

// Handler runs one command ("" for a shell) and returns its exit status.
type Handler func(cmd string, stdin io.Reader, stdout, stderr io.Writer) int

// Server is a running test SSH server.
type Server struct {
	// Addr is the listening address (host:port).
	Addr string

	ln      net.Listener
	cfg     *ssh.ServerConfig
	handler Handler
	wg      sync.WaitGroup
	conns   atomic.Int64
	logins  atomic.Int64
}

// Conns is how many TCP connections the server has accepted.
func (s *Server) Conns() int64 { return s.conns.Load() }

// Logins is how many connections completed authentication (a login, as
// opposed to a key query that stopped before signing).
func (s *Server) Logins() int64 { return s.logins.Load() }

// Start listens on addr ("127.0.0.1:0" for any free port), presenting
// hostKey and accepting only the authorized public key for any user.
func Start(addr string, hostKey ssh.Signer, authorized ssh.PublicKey, h Handler) (*Server, error) {
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if string(key.Marshal()) == string(authorized.Marshal()) {
				return &ssh.Permissions{}, nil
			}
			return nil, errors.New("key not authorized")
		},
	}
	cfg.AddHostKey(hostKey)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sshtest: listen: %w", err)
	}
	s := &Server{Addr: ln.Addr().String(), ln: ln, cfg: cfg, handler: h}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Close stops accepting connections and waits for the accept loop.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.conns.Add(1)
		go s.handleConn(conn)
	}
}

func (s *Server) handleConn(conn net.Conn) {
	defer conn.Close()
	sc, chans, reqs, err := ssh.NewServerConn(conn, s.cfg)
	if err != nil {
		return
	}
	s.logins.Add(1)
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		go s.session(ch, creqs)
	}
}

func (s *Server) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		switch req.Type {
		case "exec", "shell":
			var cmd string
			if req.Type == "exec" {
				var p struct{ Command string }
				if err := ssh.Unmarshal(req.Payload, &p); err != nil {
					_ = req.Reply(false, nil)
					continue
				}
				cmd = p.Command
			}
			_ = req.Reply(true, nil)
			go ssh.DiscardRequests(reqs)
			code := s.handler(cmd, ch, ch, ch.Stderr())
			_ = ch.CloseWrite()
			_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(code)}))
			return
		default: // env, pty-req, ...: not supported
			_ = req.Reply(false, nil)
		}
	}
}
