package firecracker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// apiClient talks to firecracker's REST API on its unix socket.
type apiClient struct {
	http *http.Client
}

func newAPIClient(sock string) *apiClient {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
		DisableKeepAlives: true,
	}
	return &apiClient{http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// APIError is a non-2xx answer from the firecracker API.
type APIError struct {
	// Method and Path identify the request.
	Method, Path string
	// Status is the HTTP status code.
	Status int
	// FaultMessage is firecracker's explanation (the Error definition of
	// its OpenAPI description).
	FaultMessage string
}

// Error renders "firecracker PUT /path: 400: fault message".
func (e *APIError) Error() string {
	return fmt.Sprintf("firecracker %s %s: %d: %s", e.Method, e.Path, e.Status, e.FaultMessage)
}

// put sends body as JSON with PUT and expects 204 (or any 2xx).
func (c *apiClient) put(ctx context.Context, path string, body any) error {
	return c.do(ctx, http.MethodPut, path, body, nil)
}

// get decodes the JSON answer of GET path into out.
func (c *apiClient) get(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, nil, out)
}

func (c *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("firecracker %s %s: encode: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://localhost"+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("firecracker %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		var fault struct {
			FaultMessage string `json:"fault_message"`
		}
		msg := strings.TrimSpace(string(data))
		if json.Unmarshal(data, &fault) == nil && fault.FaultMessage != "" {
			msg = fault.FaultMessage
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return &APIError{Method: method, Path: path, Status: resp.StatusCode, FaultMessage: msg}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("firecracker %s %s: decode: %w", method, path, err)
		}
	}
	return nil
}
