package system

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/bangerdev/banger/internal/network"
)

// grantTun lets the given uids open /dev/net/tun (a user's VMM opens its
// tap through it; the kernel still lets it attach only to taps that uid
// owns). Where every account may open it already (mode 0666, the
// distribution default) nothing changes. Otherwise each uid gets a named
// POSIX ACL entry: owner, group and mode stay as they were, so accounts
// that are not recorded gain nothing, and the entry works at once, with
// no new login.
func grantTun(reg *Registry, uids []int, out io.Writer) error {
	if m := reg.Granted.TunModeBefore; m != 0 {
		// An earlier install opened the device to everyone: undo that.
		if err := os.Chmod(tunDevice, os.FileMode(m)); err != nil {
			return err
		}
		reg.Granted.TunModeBefore = 0
		fmt.Fprintf(out, "restored %s to mode %04o (an earlier install had opened it to every account)\n", tunDevice, m)
	}
	open, err := othersMayOpen(tunDevice)
	if err != nil {
		return fmt.Errorf("%s: %w: load the tun module (modprobe tun)", tunDevice, err)
	}
	if open {
		fmt.Fprintf(out, "%s is already open to every account (the distribution default); left as it is\n", tunDevice)
		return nil
	}
	for _, uid := range uids {
		if err := grantDevice(tunDevice, uid); err != nil {
			return err
		}
		if !slices.Contains(reg.Granted.TunACL, uid) {
			reg.Granted.TunACL = append(reg.Granted.TunACL, uid)
			fmt.Fprintf(out, "gave uid %d read-write access to %s (an ACL entry; its mode and other accounts are unchanged)\n", uid, tunDevice)
		}
	}
	return writeUdevRule(reg, out)
}

// revokeTun removes uid's ACL entry on /dev/net/tun if install added it.
func revokeTun(reg *Registry, uid int, out io.Writer) error {
	i := slices.Index(reg.Granted.TunACL, uid)
	if i < 0 {
		return nil
	}
	if err := revokeDevice(tunDevice, uid); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove uid %d's access to %s: %w", uid, tunDevice, err)
	}
	reg.Granted.TunACL = slices.Delete(reg.Granted.TunACL, i, i+1)
	fmt.Fprintf(out, "removed uid %d's access to %s\n", uid, tunDevice)
	return writeUdevRule(reg, out)
}

// writeUdevRule keeps the ACL entries across reboots where udev and
// setfacl exist: the rule re-adds them when the device appears. With no
// entry left it removes the rule.
func writeUdevRule(reg *Registry, out io.Writer) error {
	if len(reg.Granted.TunACL) == 0 {
		if reg.Granted.WroteUdevRule {
			if err := os.Remove(UdevRulePath); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			reg.Granted.WroteUdevRule = false
			fmt.Fprintf(out, "removed %s\n", UdevRulePath)
		}
		return nil
	}
	setfacl := "/usr/bin/setfacl"
	if _, err := os.Stat(filepath.Dir(UdevRulePath)); err != nil {
		fmt.Fprintf(out, "note: no udev here; after a reboot run 'sudo banger system install' again to restore access to %s\n", tunDevice)
		return nil
	}
	if _, err := os.Stat(setfacl); err != nil {
		fmt.Fprintf(out, "note: %s is missing (Debian package acl), so access to %s is not restored after a reboot; install it and run this again\n", setfacl, tunDevice)
		return nil
	}
	var acl []string
	for _, uid := range reg.Granted.TunACL {
		acl = append(acl, "u:"+strconv.Itoa(uid)+":rw")
	}
	rule := fmt.Sprintf("# banger: the accounts of /etc/banger/users.toml open /dev/net/tun\nKERNEL==\"tun\", RUN+=\"%s -m %s /dev/net/tun\"\n", setfacl, strings.Join(acl, ","))
	if err := os.WriteFile(UdevRulePath, []byte(rule), 0o644); err != nil {
		return err
	}
	reg.Granted.WroteUdevRule = true
	return nil
}

// grantForwarding turns on IPv4 forwarding for the host's default-route
// interface, the one NAT'd VM traffic leaves and its replies enter by
// (each user's bridge forwards from the moment the helper creates it).
// Nothing else is forwarded: net.ipv4.ip_forward and the other interfaces
// stay as they are. Where /etc/sysctl.d exists the setting is kept
// across reboots.
func grantForwarding(reg *Registry, out io.Writer) error {
	iface, err := network.DefaultRouteInterface()
	if err != nil {
		fmt.Fprintf(out, "note: %v; NAT will need 'sudo banger system install' again once the host has one\n", err)
		return nil
	}
	on, err := network.Forwarding(iface)
	if err != nil {
		return err
	}
	if !on {
		if err := network.SetForwarding(iface, true); err != nil {
			return fmt.Errorf("turn on IPv4 forwarding for %s: %w", iface, err)
		}
		if !slices.Contains(reg.Granted.ForwardingOn, iface) {
			reg.Granted.ForwardingOn = append(reg.Granted.ForwardingOn, iface)
		}
		fmt.Fprintf(out, "turned on IPv4 forwarding for %s, the default-route interface, for NAT'd VM traffic (net.ipv4.conf.%s.forwarding; other interfaces unchanged)\n", iface, iface)
	}
	if len(reg.Granted.ForwardingOn) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Dir(SysctlPath)); err != nil {
		return nil
	}
	var b strings.Builder
	b.WriteString("# banger: IPv4 forwarding for NAT'd VM traffic (sudo banger system uninstall removes this)\n")
	for _, i := range reg.Granted.ForwardingOn {
		fmt.Fprintf(&b, "net.ipv4.conf.%s.forwarding = 1\n", i)
	}
	if err := os.WriteFile(SysctlPath, []byte(b.String()), 0o644); err != nil {
		return err
	}
	reg.Granted.WroteSysctl = true
	return nil
}

// revokeForwarding turns forwarding off again where install turned it on.
func revokeForwarding(reg *Registry, out io.Writer) error {
	for _, iface := range reg.Granted.ForwardingOn {
		if err := network.SetForwarding(iface, false); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("turn off IPv4 forwarding for %s: %w", iface, err)
		}
		fmt.Fprintf(out, "turned IPv4 forwarding for %s off again\n", iface)
	}
	reg.Granted.ForwardingOn = nil
	if reg.Granted.WroteSysctl {
		if err := os.Remove(SysctlPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		reg.Granted.WroteSysctl = false
		fmt.Fprintf(out, "removed %s\n", SysctlPath)
	}
	return nil
}
