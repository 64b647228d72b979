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
)

// tunDevice is the tap multiplexer a user's VMM opens its tap through.
const tunDevice = "/dev/net/tun"

// InstallOptions configure Install.
type InstallOptions struct {
	// Users are the accounts to allow.
	Users []string
	// HelperSrc is the banger-nethelper executable to install.
	HelperSrc string
	// Out receives one line per thing granted.
	Out io.Writer
}

// Install prepares the host so the listed users run banger without root:
// it installs the network helper with its two capabilities, opens the tun
// device to users, adds each user to the kvm group, and records each
// user's bridge and subnet. Running it again changes nothing that is
// already in place.
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
	if err := installHelper(o.HelperSrc, o.Out); err != nil {
		return err
	}
	if err := openTun(reg, o.Out); err != nil {
		return err
	}
	inUse := hostPrefixes()
	for _, u := range accounts {
		uid, _ := strconv.Atoi(u.Uid)
		a, err := reg.Allocate(u.Username, uid, inUse)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.Out, "user %s (uid %d): bridge %s, VM subnet %s, firewall table banger-%s\n", a.User, a.UID, a.Bridge, a.Subnet, a.Bridge)
		if err := addToKVM(ctx, reg, u, o.Out); err != nil {
			return err
		}
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

// openTun lets users open /dev/net/tun (the kernel still only lets them
// attach to taps they own), as distributions do by default.
func openTun(reg *Registry, out io.Writer) error {
	fi, err := os.Stat(tunDevice)
	if err != nil {
		return fmt.Errorf("%s: %w: load the tun module (modprobe tun)", tunDevice, err)
	}
	if fi.Mode().Perm()&0o006 != 0o006 {
		if reg.Granted.TunModeBefore == 0 {
			reg.Granted.TunModeBefore = uint32(fi.Mode().Perm())
		}
		if err := os.Chmod(tunDevice, 0o666); err != nil {
			return err
		}
		fmt.Fprintf(out, "made %s usable by all users (mode 0666, the distribution default; it was %04o)\n", tunDevice, fi.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Dir(UdevRulePath)); err == nil {
		if _, err := os.Stat(UdevRulePath); errors.Is(err, os.ErrNotExist) {
			if err := os.WriteFile(UdevRulePath, []byte("# banger: keep /dev/net/tun usable by users across reboots\nKERNEL==\"tun\", MODE=\"0666\"\n"), 0o644); err != nil {
				return err
			}
			reg.Granted.WroteUdevRule = true
			fmt.Fprintf(out, "wrote %s so it stays so after a reboot\n", UdevRulePath)
		}
	}
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
