package system

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/vishvananda/netlink"

	"github.com/bangerdev/banger/internal/execx"
	"github.com/bangerdev/banger/internal/network"
)

// tunDevice is the tap multiplexer a user's VMM opens its tap through.
const tunDevice = "/dev/net/tun"

// InstallOptions configure Install.
type InstallOptions struct {
	// Users are the accounts to allow.
	Users []string
	// HelperSrc is the banger-nethelper executable to install.
	HelperSrc string
	// Self is the running banger executable; os.Executable when empty.
	// Like HelperSrc it must be root's alone (CheckRootOwned).
	Self string
	// Out receives one line per thing granted.
	Out io.Writer
}

// Install prepares the host so the listed users run banger without root:
// it installs the network helper with its two capabilities, lets the
// users open the tun device, turns on IPv4 forwarding for the
// default-route interface, adds each user to the kvm group, and records
// each user's bridge and subnet. It refuses a helper or a banger that
// another account could have swapped (CheckRootOwned). Running it again
// changes nothing that is already in place.
func Install(ctx context.Context, o InstallOptions) error {
	if os.Geteuid() != 0 {
		return errors.New("system install changes the host for other accounts: run it with sudo")
	}
	if len(o.Users) == 0 {
		return errors.New("name the accounts to allow: sudo banger system install --user NAME [--user NAME]")
	}
	reg, err := Load(RegistryPath)
	if err != nil {
		return err
	}
	var accounts []*user.User
	for _, name := range o.Users {
		u, err := user.Lookup(name)
		if err != nil {
			return fmt.Errorf("no account named %q: create it first or check the spelling", name)
		}
		if u.Uid == "0" {
			return errors.New("root needs no system install: it runs banger as it is")
		}
		accounts = append(accounts, u)
	}
	self := o.Self
	if self == "" {
		if self, err = os.Executable(); err != nil {
			return err
		}
	}
	if err := CheckRootOwned(self, "banger program that runs install"); err != nil {
		return err
	}
	if err := CheckRootOwned(o.HelperSrc, "network helper"); err != nil {
		return err
	}
	if err := installHelper(o.HelperSrc, o.Out); err != nil {
		return err
	}
	inUse := hostPrefixes()
	var uids []int
	for _, u := range accounts {
		uid, _ := strconv.Atoi(u.Uid)
		a, err := reg.Allocate(u.Username, uid, inUse)
		if err != nil {
			return err
		}
		a = reg.Effective(a)
		uids = append(uids, uid)
		fmt.Fprintf(o.Out, "user %s (uid %d): bridge %s, VM subnet %s, firewall table banger-%s, taps %s*, at most %d taps and %d VMs with NAT\n", a.User, a.UID, a.Bridge, a.Subnet, a.Bridge, network.TapPrefixFor(uid), a.MaxTaps, a.MaxNAT)
		if err := addToKVM(ctx, reg, u, o.Out); err != nil {
			return err
		}
	}
	if err := grantTun(reg, uids, o.Out); err != nil {
		return err
	}
	if err := grantForwarding(reg, o.Out); err != nil {
		return err
	}
	if reg.Limits == (Limits{}) {
		reg.Limits = Limits{MaxTaps: DefaultMaxTaps, MaxNAT: DefaultMaxNAT}
	}
	if err := reg.Save(RegistryPath); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "recorded in %s; each listed user can now run banger without sudo\n", RegistryPath)
	return nil
}

// installHelper copies the helper into place, root-owned and 0755, with
// CAP_NET_ADMIN and CAP_NET_BIND_SERVICE as file capabilities.
func installHelper(src string, out io.Writer) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("read the network helper %s: %w; build it with 'make build' (it sits next to banger)", src, err)
	}
	if err := os.MkdirAll(filepath.Dir(HelperPath), 0o755); err != nil {
		return err
	}
	tmp := HelperPath + ".new"
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		return err
	}
	if err := os.Chown(tmp, 0, 0); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := grantCaps(tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, HelperPath); err != nil {
		return err
	}
	fmt.Fprintf(out, "installed %s with cap_net_admin,cap_net_bind_service (it serves only the users recorded below, each within its own bridge, subnet and firewall table)\n", HelperPath)
	return nil
}

// addToKVM adds u to the kvm group when the host has one and u is not in it.
func addToKVM(ctx context.Context, reg *Registry, u *user.User, out io.Writer) error {
	g, err := user.LookupGroup("kvm")
	if err != nil {
		return nil // no kvm group: KVM is unusable or world-accessible
	}
	ids, _ := u.GroupIds()
	if slices.Contains(ids, g.Gid) {
		return nil
	}
	if err := execx.Check(ctx, "gpasswd", "-a", u.Username, "kvm"); err != nil {
		return fmt.Errorf("add %s to the kvm group: %w", u.Username, err)
	}
	reg.Granted.AddedToKVM = append(reg.Granted.AddedToKVM, u.Username)
	fmt.Fprintf(out, "added %s to the kvm group (hardware virtualization; log in again for it to apply)\n", u.Username)
	return nil
}

// hostPrefixes are the host's addresses and routes, which allocations avoid.
func hostPrefixes() []netip.Prefix {
	var out []netip.Prefix
	if addrs, err := netlink.AddrList(nil, netlink.FAMILY_V4); err == nil {
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.IPNet.String()); err == nil {
				out = append(out, p.Masked())
			}
		}
	}
	if routes, err := netlink.RouteList(nil, netlink.FAMILY_V4); err == nil {
		for _, r := range routes {
			if r.Dst == nil {
				continue
			}
			if p, err := netip.ParsePrefix(r.Dst.String()); err == nil && p.Bits() > 0 {
				out = append(out, p)
			}
		}
	}
	return out
}
