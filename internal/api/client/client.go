// Package client is the typed client for bangerd's /v1/ API over its unix
// socket. The CLI and the TUI use it; it never touches host resources.
package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/version"
)

// Client talks to one bangerd socket.
type Client struct {
	socket string
	http   *http.Client
	// DaemonVersion is filled from the last response's api.VersionHeader.
	DaemonVersion string
}

// New returns a client for the daemon listening on socket.
func New(socket string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		DisableCompression: true,
	}
	return &Client{socket: socket, http: &http.Client{Transport: tr}}
}

// Socket returns the socket path.
func (c *Client) Socket() string { return c.socket }

// APIError is a non-2xx answer from the daemon.
type APIError struct {
	Status  int
	Message string
}

// Error returns the daemon's message.
func (e *APIError) Error() string { return e.Message }

// StatusOf returns the daemon's HTTP status carried by err (for streamed
// operations, the status of the final error event), or 0 when err did not
// come from the daemon.
func StatusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// IsNotFound reports whether err is a 404 from the daemon.
func IsNotFound(err error) bool { return StatusOf(err) == http.StatusNotFound }

// IsConflict reports whether err is a 409 from the daemon (name taken,
// wrong state).
func IsConflict(err error) bool { return StatusOf(err) == http.StatusConflict }

// IsBadRequest reports whether err is a 400 from the daemon (invalid input).
func IsBadRequest(err error) bool { return StatusOf(err) == http.StatusBadRequest }

// IsMissingDependency reports whether err is a 424 from the daemon: a
// preflight found something missing on the host.
func IsMissingDependency(err error) bool { return StatusOf(err) == http.StatusFailedDependency }

func (c *Client) newRequest(ctx context.Context, method, path string, body any) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://bangerd"+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set(api.VersionHeader, version.Version)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

func (c *Client) do(req *http.Request) (*http.Response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &DialError{Socket: c.socket, Err: err}
	}
	c.DaemonVersion = resp.Header.Get(api.VersionHeader)
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		var e api.Error
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(b, &e) != nil || e.Message == "" {
			e.Message = fmt.Sprintf("bangerd answered %s: %s", resp.Status, bytes.TrimSpace(b))
		}
		return nil, &APIError{Status: resp.StatusCode, Message: e.Message}
	}
	return resp, nil
}

// Call performs a JSON request and decodes the JSON answer into out (which
// may be nil).
func (c *Client) Call(ctx context.Context, method, path string, body, out any) error {
	req, err := c.newRequest(ctx, method, path, body)
	if err != nil {
		return err
	}
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode bangerd answer to %s %s: %w", method, path, err)
	}
	return nil
}

// Stream performs a request whose answer is a stream of api.Event lines.
// onEvent sees every event; the final result is decoded into out. An error
// event becomes the returned error.
func (c *Client) Stream(ctx context.Context, method, path string, body any, onEvent func(api.Event), out any) error {
	req, err := c.newRequest(ctx, method, path, body)
	if err != nil {
		return err
	}
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var ev api.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return fmt.Errorf("decode bangerd progress: %w", err)
		}
		if onEvent != nil {
			onEvent(ev)
		}
		switch ev.Kind {
		case api.EventError:
			status := ev.Status
			if status == 0 {
				status = http.StatusInternalServerError
			}
			return &APIError{Status: status, Message: ev.Message}
		case api.EventResult:
			if out != nil && len(ev.Result) > 0 {
				return json.Unmarshal(ev.Result, out)
			}
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("bangerd stream broke: %w", err)
	}
	return errors.New("bangerd closed the stream without a result; see 'banger daemon status' and the daemon log")
}

// Raw performs a request and returns the open response body (for logs).
func (c *Client) Raw(ctx context.Context, method, path string) (io.ReadCloser, error) {
	req, err := c.newRequest(ctx, method, path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Ping asks the daemon for its status with a short timeout.
func (c *Client) Ping(ctx context.Context) (*api.DaemonStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var st api.DaemonStatus
	if err := c.Call(ctx, http.MethodGet, "/v1/status", nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// PathName escapes a name for use in a route.
func PathName(name string) string { return url.PathEscape(name) }

// DialError means the daemon could not be reached.
type DialError struct {
	Socket string
	Err    error
}

// Error explains how to get a daemon.
func (e *DialError) Error() string {
	return fmt.Sprintf("cannot reach bangerd at %s: %v; start it with 'banger daemon status' (auto-starts) or check the daemon log", e.Socket, e.Err)
}

// Unwrap returns the dial error.
func (e *DialError) Unwrap() error { return e.Err }
