package network

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// procSys is where per-interface sysctls live; a variable for tests.
var procSys = "/proc/sys/net"

// bridgeIPv6Off are the IPv6 settings of every banger bridge. IPv6 is off
// (disable_ipv6); the others are set first so the bridge never accepts a
// router advertisement, autoconfigures an address or follows a redirect
// even in the instant before disable_ipv6 applies, or if a later change
// turns IPv6 back on.
var bridgeIPv6Off = []struct{ key, val string }{
	{"accept_ra", "0"},
	{"autoconf", "0"},
	{"accept_redirects", "0"},
	{"disable_ipv6", "1"},
}

// hardenBridge applies bridgeIPv6Off and enables IPv4 forwarding on the
// bridge only (VM traffic that NAT sends out is routed from it; the host's
// other interfaces are left as they are). A kernel without IPv6 has
// nothing to turn off.
func hardenBridge(name string) error {
	dir := filepath.Join(procSys, "ipv6", "conf", name)
	if _, err := os.Stat(dir); err == nil {
		for _, s := range bridgeIPv6Off {
			if err := writeSysctl(filepath.Join(dir, s.key), s.val); err != nil {
				return fmt.Errorf("turn off IPv6 on bridge %s: %w", name, err)
			}
		}
	}
	if err := writeSysctl(filepath.Join(procSys, "ipv4", "conf", name, "forwarding"), "1"); err != nil {
		return fmt.Errorf("enable IPv4 forwarding on bridge %s: %w", name, err)
	}
	return nil
}

// Forwarding reports whether IPv4 forwarding is on for the interface.
func Forwarding(iface string) (bool, error) {
	if err := validIfaceName(iface); err != nil {
		return false, err
	}
	b, err := os.ReadFile(filepath.Join(procSys, "ipv4", "conf", iface, "forwarding"))
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(string(b)) == "1", nil
}

// SetForwarding turns IPv4 forwarding on or off for one interface.
func SetForwarding(iface string, on bool) error {
	if err := validIfaceName(iface); err != nil {
		return err
	}
	v := "0"
	if on {
		v = "1"
	}
	return writeSysctl(filepath.Join(procSys, "ipv4", "conf", iface, "forwarding"), v)
}

// IPv6Off reports whether a bridge has the IPv6 settings banger gives it
// (true also when the kernel has no IPv6).
func IPv6Off(name string) (bool, error) {
	dir := filepath.Join(procSys, "ipv6", "conf", name)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	for _, s := range bridgeIPv6Off {
		b, err := os.ReadFile(filepath.Join(dir, s.key))
		if err != nil {
			return false, err
		}
		if strings.TrimSpace(string(b)) != s.val {
			return false, nil
		}
	}
	return true, nil
}

// writeSysctl writes val to the sysctl file p unless it already holds it.
func writeSysctl(p, val string) error {
	if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) == val {
		return nil
	}
	return os.WriteFile(p, []byte(val+"\n"), 0o644)
}
