package nat

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/bangerdev/banger/internal/execx"
	"github.com/bangerdev/banger/internal/network"
	"github.com/google/nftables"
	"golang.org/x/sys/unix"
)

// ipForwardPath is the sysctl that lets the host route VM packets.
const ipForwardPath = "/proc/sys/net/ipv4/ip_forward"

// EnableForwarding sets net.ipv4.ip_forward=1 (in the caller's network
// namespace). banger keeps no record of the previous value: forwarding stays
// on, and the base rules keep VMs without NAT host-only regardless.
func EnableForwarding() error {
	cur, err := os.ReadFile(ipForwardPath)
	if err == nil && strings.TrimSpace(string(cur)) == "1" {
		return nil
	}
	if err := os.WriteFile(ipForwardPath, []byte("1\n"), 0o644); err != nil {
		return fmt.Errorf("enable ip forwarding: %w: run 'sudo banger system install --user $USER' once (or run banger as root), or set net.ipv4.ip_forward=1 in /etc/sysctl.d/", err)
	}
	return nil
}

// Scope names the table (nftables) and chains (iptables) of one bangerd.
type Scope struct {
	Table, FwdChain, PostChain string
}

// ScopeFor returns the names for a daemon managing bridge: the default
// bridge banger0 uses "banger", BANGER-FWD and BANGER-POST; any other bridge
// (a second daemon, the test suite) gets names suffixed with the bridge, so
// two daemons never sync away each other's rules.
func ScopeFor(bridge string) Scope {
	if bridge == "" || bridge == network.DefaultBridge {
		return Scope{Table: TableName, FwdChain: ChainForward, PostChain: ChainPostrouting}
	}
	return Scope{Table: TableName + "-" + bridge, FwdChain: ChainForward + "-" + bridge, PostChain: ChainPostrouting + "-" + bridge}
}

// DetectFor is Detect with the table and chain names of ScopeFor(bridge).
func DetectFor(ctx context.Context, bridge string) (Firewall, string, error) {
	fw, why, err := Detect(ctx)
	if err != nil {
		return nil, why, err
	}
	sc := ScopeFor(bridge)
	switch f := fw.(type) {
	case *Nftables:
		f.Table = sc.Table
	case *Iptables:
		f.FwdChain, f.PostChain = sc.FwdChain, sc.PostChain
	}
	return fw, why, nil
}

// Detect picks the firewall backend: nftables when its netlink interface
// answers (banger lists the tables), iptables otherwise. The string says
// why, for `banger doctor`.
func Detect(ctx context.Context) (Firewall, string, error) {
	conn, err := nftables.New()
	if err == nil {
		_, err = conn.ListTables()
	}
	if err == nil {
		return NewNftables(), "nftables: the kernel's nf_tables netlink interface answered", nil
	}
	nftErr := err
	if !execx.Have("iptables") {
		return nil, "", fmt.Errorf("no usable firewall for NAT: nftables failed (%v) and iptables is not installed: install nftables or iptables (Debian and Fedora package of the same name); an ordinary account also needs 'sudo banger system install --user $USER'", nftErr)
	}
	if _, err := execx.Output(ctx, "iptables", "-w", "-t", "nat", "-S", "POSTROUTING"); err != nil {
		return nil, "", fmt.Errorf("no usable firewall for NAT: nftables failed (%v) and iptables failed (%v): run 'sudo banger system install --user $USER' once (or run banger as root) and check that the kernel has netfilter NAT support", nftErr, err)
	}
	return NewIptables(), fmt.Sprintf("iptables: nftables is not usable (%v)", nftErr), nil
}

// Check is the NAT preflight: it names everything NAT needs that is
// missing (a firewall backend, a writable ip_forward sysctl, a default
// route) with the next step, or returns nil.
func Check(ctx context.Context) error {
	var problems []string
	if _, _, err := Detect(ctx); err != nil {
		problems = append(problems, err.Error())
	}
	if err := unix.Access(ipForwardPath, unix.W_OK); err != nil {
		problems = append(problems, fmt.Sprintf("cannot write %s (%v): run 'sudo banger system install --user $USER' once (or run banger as root), or set net.ipv4.ip_forward=1 in /etc/sysctl.d/", ipForwardPath, err))
	}
	if _, err := network.DefaultRouteInterface(); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New("nat preflight failed: " + strings.Join(problems, "; "))
}
