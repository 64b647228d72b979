// Package nethelper is banger's only privileged piece for ordinary users:
// a small program (cmd/banger-nethelper) that `banger system install`
// gives CAP_NET_ADMIN and CAP_NET_BIND_SERVICE. Any account may start it
// (mode 0755), but it serves only the uids recorded in the registry. A user's bangerd runs it for each network change it cannot
// make itself. The helper takes one JSON request on stdin, checks it
// against the caller's allocation in /etc/banger/users.toml (its bridge,
// subnet and firewall table, taps of the caller's own name prefix and
// owned by the caller, within the caller's limits), performs it and answers one JSON response on stdout. It takes
// nothing else from the caller: no paths, no environment, no bridge or
// table names.
//
// Client implements network.Manager and nat.Firewall on top of it, plus
// the DNS sockets on the bridge address.
package nethelper

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"

	"github.com/bangerdev/banger/internal/nat"
)

// Operations a Request may ask for.
const (
	OpEnsureBridge   = "ensure-bridge"
	OpTeardownBridge = "teardown-bridge"
	OpCreateTap      = "create-tap"
	OpDeleteTap      = "delete-tap"
	OpFirewallBase   = "fw-ensure-base"
	OpFirewallAdd    = "fw-add"
	OpFirewallRemove = "fw-remove"
	OpFirewallList   = "fw-list"
	OpFirewallSync   = "fw-sync"
	// OpFirewallDown and OpForwarding are refused: the base rules go only
	// with the bridge, and forwarding is set by system install.
	OpFirewallDown = "fw-teardown"
	OpForwarding   = "enable-forwarding"
	OpDNSSockets   = "dns-sockets"
	OpInfo         = "info"
)

// CleanEnv is the whole environment the helper runs with. The helper
// re-executes itself with exactly this environment when started with any
// other, so a request is always served by a process that never saw the
// caller's variables (GODEBUG, GOGC and the like are read by the Go
// runtime before main runs).
func CleanEnv() []string { return []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"} }

// Request is one operation.
type Request struct {
	// Op is one of the Op constants.
	Op string `json:"op"`
	// Tap names the tap of OpCreateTap and OpDeleteTap.
	Tap string `json:"tap,omitempty"`
	// Name is the VM of OpFirewallRemove.
	Name string `json:"name,omitempty"`
	// Rules are the NAT rules of OpFirewallAdd (one) and OpFirewallSync.
	Rules []Rule `json:"rules,omitempty"`
}

// Rule is a nat.Rule on the wire.
type Rule struct {
	Name     string     `json:"name"`
	IP       netip.Addr `json:"ip"`
	Tap      string     `json:"tap,omitempty"`
	OutIface string     `json:"out"`
}

// Response answers a Request.
type Response struct {
	// Error is set when the request was refused or failed.
	Error string `json:"error,omitempty"`
	// Rules answers OpFirewallList.
	Rules []Rule `json:"rules,omitempty"`
	// Backend is the firewall backend ("nftables" or "iptables").
	Backend string `json:"backend,omitempty"`
	// Bridge and Subnet answer OpInfo: the caller's allocation.
	Bridge string       `json:"bridge,omitempty"`
	Subnet netip.Prefix `json:"subnet,omitzero"`
}

func toNAT(rs []Rule) []nat.Rule {
	out := make([]nat.Rule, 0, len(rs))
	for _, r := range rs {
		out = append(out, nat.Rule{Name: r.Name, IP: r.IP, Tap: r.Tap, OutIface: r.OutIface})
	}
	return out
}

func fromNAT(rs []nat.Rule) []Rule {
	out := make([]Rule, 0, len(rs))
	for _, r := range rs {
		out = append(out, Rule{Name: r.Name, IP: r.IP, Tap: r.Tap, OutIface: r.OutIface})
	}
	return out
}

// DecodeRequest parses one request strictly: unknown fields and trailing
// data are refused with what was wrong.
func DecodeRequest(b []byte) (Request, error) {
	var req Request
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf("invalid request: %v: banger and banger-nethelper may differ in version; run 'sudo banger system install' again", err)
	}
	if dec.More() {
		return req, errors.New("invalid request: more than one JSON value")
	}
	return req, nil
}
