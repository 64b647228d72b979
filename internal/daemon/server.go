// Package daemon is bangerd: it owns the state database and every host
// resource (VMM processes, taps, firewall rules, DNS records, disks) and
// serves the /v1/ API on a unix socket. Stopping the daemon never stops VMs;
// on start it re-adopts the VMs that still run.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// listen takes the daemon lock and binds the socket, replacing a stale
// socket file left by a dead daemon. The returned cleanup releases both.
func listen(socket, lockPath string) (net.Listener, func(), error) {
	if err := os.MkdirAll(filepath.Dir(socket), 0o700); err != nil {
		return nil, nil, fmt.Errorf("create socket dir: %w", err)
	}
	if err := os.Chmod(filepath.Dir(socket), 0o700); err != nil {
		return nil, nil, fmt.Errorf("secure socket dir: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(lockPath), 0o700); err != nil {
		return nil, nil, fmt.Errorf("create state dir: %w", err)
	}
	lock, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("open daemon lock: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(lockPath)
		lock.Close()
		return nil, nil, &AlreadyRunningError{PID: strings.TrimSpace(string(b))}
	}
	_ = lock.Truncate(0)
	_, _ = lock.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)

	if _, err := os.Lstat(socket); err == nil {
		// We hold the lock, so no live daemon owns this socket; make sure
		// nothing answers on it before removing it.
		if c, derr := net.DialTimeout("unix", socket, time.Second); derr == nil {
			c.Close()
			lock.Close()
			return nil, nil, fmt.Errorf("something already answers on %s; stop it or choose another socket", socket)
		}
		slog.Info("removing stale socket", "socket", socket)
		if err := os.Remove(socket); err != nil {
			lock.Close()
			return nil, nil, fmt.Errorf("remove stale socket %s: %w", socket, err)
		}
	}
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", socket)
	syscall.Umask(old)
	if err != nil {
		lock.Close()
		return nil, nil, fmt.Errorf("listen on %s: %w", socket, err)
	}
	if err := os.Chmod(socket, 0o600); err != nil {
		ln.Close()
		lock.Close()
		return nil, nil, err
	}
	cleanup := func() {
		ln.Close()
		_ = os.Remove(socket)
		_ = lock.Truncate(0)
		lock.Close()
	}
	return ln, cleanup, nil
}

// AlreadyRunningError means another bangerd holds the lock.
type AlreadyRunningError struct{ PID string }

// Error names the other daemon.
func (e *AlreadyRunningError) Error() string {
	return fmt.Sprintf("bangerd is already running (pid %s); use 'banger daemon stop' first", e.PID)
}

// serve runs the HTTP server until ctx ends or Shutdown is requested.
func (d *Daemon) serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           d.http.withCommon(d.http.routes()),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case <-d.shutdown:
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
