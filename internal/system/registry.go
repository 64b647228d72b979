// Package system holds what `sudo banger system install` sets up for
// ordinary accounts, and the record of it that the privileged network
// helper trusts: for each allowed user a bridge, a VM subnet and (derived
// from the bridge) a firewall table, never overlapping another user's.
//
// The record is /etc/banger/users.toml, owned by root and world-readable:
// user daemons read it to learn their network, and banger-nethelper reads
// it to decide what a calling uid may touch. Nothing in it is secret.
package system

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"

	"github.com/pelletier/go-toml/v2"
)

// Fixed host paths. They are constants on purpose: the privileged helper
// must not take its trust anchors from the environment of its caller.
const (
	// RegistryPath is the record of allowed users and their networks.
	RegistryPath = "/etc/banger/users.toml"
	// HelperPath is where system install puts the network helper.
	HelperPath = "/usr/local/libexec/banger/banger-nethelper"
	// UdevRulePath re-applies the tun device ACL where udev runs.
	UdevRulePath = "/etc/udev/rules.d/70-banger-tun.rules"
	// SysctlPath keeps the forwarding install turned on across reboots.
	SysctlPath = "/etc/sysctl.d/70-banger.conf"
)

// Allocation is one user's share of the host network.
type Allocation struct {
	// User is the account name.
	User string `toml:"user"`
	// UID is the account's numeric id; the helper matches callers on it.
	UID int `toml:"uid"`
	// Bridge is the user's VM bridge.
	Bridge string `toml:"bridge"`
	// Subnet is the user's VM subnet; its first address is the gateway.
	Subnet netip.Prefix `toml:"subnet"`
	// MaxTaps caps the taps the user may hold at once (0: the registry's
	// [limits] value). LoadForUID fills in the effective value.
	MaxTaps int `toml:"max_taps,omitempty"`
	// MaxNAT caps the user's VMs with NAT at once (0: [limits]).
	MaxNAT int `toml:"max_nat,omitempty"`
}

// Limits are the per-user caps the helper enforces, for every user
// without a value of its own.
type Limits struct {
	// MaxTaps is the taps a user may hold at once (DefaultMaxTaps when 0).
	MaxTaps int `toml:"max_taps,omitempty"`
	// MaxNAT is the VMs with NAT a user may have at once (DefaultMaxNAT
	// when 0).
	MaxNAT int `toml:"max_nat,omitempty"`
}

// Default limits: far above what one developer runs, far below what
// would slow the host's netlink and nftables for everyone.
const (
	DefaultMaxTaps = 32
	DefaultMaxNAT  = 32
)

// Registry is the content of RegistryPath.
type Registry struct {
	// Users are the allocations, sorted by user name.
	Users []Allocation `toml:"users"`
	// Limits are the defaults of the per-user caps.
	Limits Limits `toml:"limits"`
	// Granted records what install changed on the host beyond the
	// allocations, so uninstall can undo exactly that.
	Granted Granted `toml:"granted"`
}

// Effective returns a with its limits filled in from r's defaults.
func (r *Registry) Effective(a Allocation) Allocation {
	pick := func(own, dflt, builtin int) int {
		switch {
		case own > 0:
			return own
		case dflt > 0:
			return dflt
		}
		return builtin
	}
	a.MaxTaps = pick(a.MaxTaps, r.Limits.MaxTaps, DefaultMaxTaps)
	a.MaxNAT = pick(a.MaxNAT, r.Limits.MaxNAT, DefaultMaxNAT)
	return a
}

// Granted is what system install changed besides the registry itself.
type Granted struct {
	// AddedToKVM lists users install added to the kvm group.
	AddedToKVM []string `toml:"added_to_kvm"`
	// TunModeBefore is the permission bits /dev/net/tun had before install
	// opened it to users (0 when install did not change it).
	TunModeBefore uint32 `toml:"tun_mode_before"`
	// WroteUdevRule is true when install wrote UdevRulePath.
	WroteUdevRule bool `toml:"wrote_udev_rule"`
	// TunACL lists the uids install gave a named ACL entry on
	// /dev/net/tun (only where the device was not open to all already).
	TunACL []int `toml:"tun_acl,omitempty"`
	// ForwardingOn lists the interfaces install turned IPv4 forwarding on
	// for (the default-route interface, when it was off).
	ForwardingOn []string `toml:"forwarding_on,omitempty"`
	// WroteSysctl is true when install wrote SysctlPath.
	WroteSysctl bool `toml:"wrote_sysctl,omitempty"`
}

// Load reads the registry at path; a missing file is an empty registry.
func Load(path string) (*Registry, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Registry{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var r Registry
	if err := toml.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("parse %s: %w; fix or remove it and run 'sudo banger system install' again", path, err)
	}
	return &r, nil
}

// Save writes the registry atomically (0644, directory 0755).
func (r *Registry) Save(path string) error {
	sort.Slice(r.Users, func(i, j int) bool { return r.Users[i].User < r.Users[j].User })
	var buf bytes.Buffer
	buf.WriteString("# Written by 'banger system install'; edit with that command, not by hand.\n")
	if err := toml.NewEncoder(&buf).Encode(r); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ForUID returns the allocation of uid.
func (r *Registry) ForUID(uid int) (Allocation, bool) {
	for _, a := range r.Users {
		if a.UID == uid {
			return a, true
		}
	}
	return Allocation{}, false
}

// ForUser returns the allocation of the named user.
func (r *Registry) ForUser(name string) (Allocation, bool) {
	for _, a := range r.Users {
		if a.User == name {
			return a, true
		}
	}
	return Allocation{}, false
}

// LoadForUID reads the registry and returns the allocation of uid, or an
// error that tells the user how to get one.
func LoadForUID(uid int) (Allocation, error) {
	r, err := Load(RegistryPath)
	if err != nil {
		return Allocation{}, err
	}
	a, ok := r.ForUID(uid)
	if !ok {
		return Allocation{}, fmt.Errorf("uid %d has no banger network; run 'sudo banger system install --user $USER' once", uid)
	}
	return r.Effective(a), nil
}
