package nethelper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bangerdev/banger/internal/nat"
	"github.com/bangerdev/banger/internal/network"
)

// Client runs the helper for a user's daemon. It implements
// network.Manager and nat.Firewall; every change goes through the helper,
// reads that need no privilege (bridge ports) go to netlink directly.
type Client struct {
	// Path is the helper executable (system.HelperPath).
	Path string

	mu      sync.Mutex
	backend string
}

var (
	_ network.Manager = (*Client)(nil)
	_ nat.Firewall    = (*Client)(nil)
)

// call runs the helper with req; extra files become fd 3 onward.
func (c *Client) call(ctx context.Context, req Request, extra ...*os.File) (Response, error) {
	in, err := json.Marshal(req)
	if err != nil {
		return Response{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Path)
	cmd.Env = CleanEnv()
	cmd.Dir = "/"
	cmd.Stdin = bytes.NewReader(in)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	cmd.ExtraFiles = extra
	runErr := cmd.Run()
	var resp Response
	if err := json.Unmarshal(out.Bytes(), &resp); err != nil {
		if runErr != nil {
			return resp, fmt.Errorf("banger-nethelper %s: %v: %s; run 'sudo banger system install --user $USER'", req.Op, runErr, strings.TrimSpace(stderr.String()))
		}
		return resp, fmt.Errorf("banger-nethelper %s: unreadable answer %q", req.Op, out.String())
	}
	if resp.Backend != "" {
		c.mu.Lock()
		c.backend = resp.Backend
		c.mu.Unlock()
	}
	if resp.Error != "" {
		return resp, errors.New(resp.Error)
	}
	return resp, nil
}

// Info returns the caller's bridge and subnet as the helper sees them.
func (c *Client) Info(ctx context.Context) (string, netip.Prefix, error) {
	r, err := c.call(ctx, Request{Op: OpInfo})
	return r.Bridge, r.Subnet, err
}

// EnsureBridge implements network.Manager (the helper uses the caller's
// allocated bridge and subnet).
func (c *Client) EnsureBridge(ctx context.Context, _ string, _ netip.Prefix) error {
	_, err := c.call(ctx, Request{Op: OpEnsureBridge})
	return err
}

// TeardownBridge implements network.Manager.
func (c *Client) TeardownBridge(ctx context.Context, _ string) error {
	_, err := c.call(ctx, Request{Op: OpTeardownBridge})
	return err
}

// CreateTap implements network.Manager: a tap owned by the caller on the
// caller's bridge.
func (c *Client) CreateTap(ctx context.Context, name, _ string) error {
	_, err := c.call(ctx, Request{Op: OpCreateTap, Tap: name})
	return err
}

// DeleteTap implements network.Manager.
func (c *Client) DeleteTap(ctx context.Context, name string) error {
	_, err := c.call(ctx, Request{Op: OpDeleteTap, Tap: name})
	return err
}

// Ports implements network.Manager with an unprivileged netlink read.
func (c *Client) Ports(ctx context.Context, bridge string) ([]string, error) {
	return network.NewNetlinkManager().Ports(ctx, bridge)
}

// Backend implements nat.Firewall: the backend the helper last reported.
func (c *Client) Backend() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.backend == "" {
		return nat.BackendNftables
	}
	return c.backend
}

// EnsureBase implements nat.Firewall.
func (c *Client) EnsureBase(ctx context.Context, _ string, _ netip.Prefix) error {
	_, err := c.call(ctx, Request{Op: OpFirewallBase})
	return err
}

// AddVM implements nat.Firewall.
func (c *Client) AddVM(ctx context.Context, r nat.Rule) error {
	_, err := c.call(ctx, Request{Op: OpFirewallAdd, Rules: fromNAT([]nat.Rule{r})})
	return err
}

// RemoveVM implements nat.Firewall.
func (c *Client) RemoveVM(ctx context.Context, name string) error {
	_, err := c.call(ctx, Request{Op: OpFirewallRemove, Name: name})
	return err
}

// List implements nat.Firewall.
func (c *Client) List(ctx context.Context) ([]nat.Rule, error) {
	r, err := c.call(ctx, Request{Op: OpFirewallList})
	return toNAT(r.Rules), err
}

// Sync implements nat.Firewall.
func (c *Client) Sync(ctx context.Context, want []nat.Rule) error {
	_, err := c.call(ctx, Request{Op: OpFirewallSync, Rules: fromNAT(want)})
	return err
}

// Teardown implements nat.Firewall. It changes nothing: the base rules of
// a user's bridge belong to the helper, which removes them only together
// with the bridge (TeardownBridge), so a user can never have a bridge
// without them.
func (c *Client) Teardown(context.Context) error { return nil }

// DNSSockets has the helper bind UDP and TCP port 53 on the caller's
// gateway address and returns them, ready to serve.
func (c *Client) DNSSockets(ctx context.Context) (net.PacketConn, net.Listener, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	ours := os.NewFile(uintptr(fds[0]), "nethelper-parent")
	theirs := os.NewFile(uintptr(fds[1]), "nethelper-child")
	defer ours.Close()
	_, err = c.call(ctx, Request{Op: OpDNSSockets}, theirs)
	theirs.Close()
	if err != nil {
		return nil, nil, err
	}
	buf, oob := make([]byte, 16), make([]byte, unix.CmsgSpace(2*4))
	_, oobn, _, _, err := unix.Recvmsg(fds[0], buf, oob, unix.MSG_DONTWAIT)
	if err != nil {
		return nil, nil, fmt.Errorf("receive dns sockets from banger-nethelper: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, nil, fmt.Errorf("receive dns sockets: bad control message (%v)", err)
	}
	got, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(got) != 2 {
		return nil, nil, fmt.Errorf("receive dns sockets: want 2 descriptors, got %d (%v)", len(got), err)
	}
	uf, tf := os.NewFile(uintptr(got[0]), "dns-udp"), os.NewFile(uintptr(got[1]), "dns-tcp")
	defer uf.Close()
	defer tf.Close()
	pc, err := net.FilePacketConn(uf)
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.FileListener(tf)
	if err != nil {
		pc.Close()
		return nil, nil, err
	}
	return pc, ln, nil
}
