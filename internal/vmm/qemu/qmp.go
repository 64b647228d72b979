package qemu

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// QMP is a minimal client of QEMU's machine protocol: JSON objects, one per
// line, over a unix socket. It is not safe for concurrent use.
type QMP struct {
	conn net.Conn
	r    *bufio.Reader
}

// QMPError is an error reply to a command.
type QMPError struct {
	// Command is the command that failed.
	Command string
	// Class is QEMU's error class ("GenericError", "CommandNotFound", ...).
	Class string
	// Desc is QEMU's human-readable description.
	Desc string
}

// Error renders "qmp <command>: <class>: <desc>".
func (e *QMPError) Error() string {
	return fmt.Sprintf("qmp %s: %s: %s", e.Command, e.Class, e.Desc)
}

// reply is any message from the server: greeting, return, error or event.
type reply struct {
	Greeting *json.RawMessage `json:"QMP"`
	Return   *json.RawMessage `json:"return"`
	Error    *struct {
		Class string `json:"class"`
		Desc  string `json:"desc"`
	} `json:"error"`
	Event string `json:"event"`
}

// DialQMP connects to the QMP socket at path, reads the greeting and
// negotiates capabilities, so the returned client accepts commands.
func DialQMP(ctx context.Context, path string) (*QMP, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("connect to qmp socket %s: %w", path, err)
	}
	c := &QMP{conn: conn, r: bufio.NewReader(conn)}
	if err := c.handshake(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

func (c *QMP) handshake(ctx context.Context) error {
	c.setDeadline(ctx)
	msg, err := c.read()
	if err != nil {
		return fmt.Errorf("read qmp greeting: %w", err)
	}
	if msg.Greeting == nil {
		return errors.New("read qmp greeting: server did not greet with a QMP banner")
	}
	return c.Execute(ctx, "qmp_capabilities", nil, nil)
}

// Execute runs command with args (nil for none) and decodes the "return"
// value into out (nil to discard). Asynchronous events arriving before the
// reply are skipped.
func (c *QMP) Execute(ctx context.Context, command string, args, out any) error {
	return c.execute(ctx, command, args, out, nil)
}

// ExecuteFD is Execute passing f along with the command (SCM_RIGHTS), as
// getfd and add-fd expect.
func (c *QMP) ExecuteFD(ctx context.Context, command string, args, out any, f *os.File) error {
	return c.execute(ctx, command, args, out, f)
}

func (c *QMP) execute(ctx context.Context, command string, args, out any, f *os.File) error {
	c.setDeadline(ctx)
	req := map[string]any{"execute": command}
	if args != nil {
		req["arguments"] = args
	}
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("qmp %s: encode request: %w", command, err)
	}
	b = append(b, '\n')
	if f != nil {
		uc, ok := c.conn.(*net.UnixConn)
		if !ok {
			return fmt.Errorf("qmp %s: passing a file needs a unix socket", command)
		}
		_, _, err = uc.WriteMsgUnix(b, unix.UnixRights(int(f.Fd())), nil)
	} else {
		_, err = c.conn.Write(b)
	}
	if err != nil {
		return fmt.Errorf("qmp %s: send: %w", command, err)
	}
	for {
		msg, err := c.read()
		if err != nil {
			return fmt.Errorf("qmp %s: read reply: %w", command, err)
		}
		switch {
		case msg.Error != nil:
			return &QMPError{Command: command, Class: msg.Error.Class, Desc: msg.Error.Desc}
		case msg.Return != nil:
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(*msg.Return, out); err != nil {
				return fmt.Errorf("qmp %s: decode reply: %w", command, err)
			}
			return nil
		}
		// An event or something unknown: keep reading.
	}
}

// Close closes the connection.
func (c *QMP) Close() error { return c.conn.Close() }

func (c *QMP) read() (reply, error) {
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return reply{}, err
	}
	var msg reply
	if err := json.Unmarshal(line, &msg); err != nil {
		return reply{}, fmt.Errorf("malformed qmp message %q: %w", truncate(line, 200), err)
	}
	return msg, nil
}

// setDeadline bounds socket I/O by ctx, or by 30 s without a deadline.
func (c *QMP) setDeadline(ctx context.Context) {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(30 * time.Second)
	}
	c.conn.SetDeadline(dl)
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
