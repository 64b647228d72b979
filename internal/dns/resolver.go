package dns

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/bangerdev/banger/internal/execx"
)

// ErrNoResolved is returned by ResolvedLink when systemd-resolved is not
// the host's resolver.
var ErrNoResolved = errors.New("systemd-resolved is not active")

// rootDir prefixes the files the resolver detection reads (tests).
var rootDir = "/"

func hostPath(p string) string { return filepath.Join(rootDir, p) }

// ResolvedActive reports whether systemd-resolved manages the host's DNS.
func ResolvedActive(ctx context.Context) bool {
	if _, err := os.Stat(hostPath("/run/systemd/resolve/stub-resolv.conf")); err == nil {
		return true
	}
	if !execx.Have("resolvectl") {
		return false
	}
	return execx.Check(ctx, "resolvectl", "status") == nil
}

// ResolvedLink routes the `.vm` domain to serverIP on link (the VM bridge)
// in systemd-resolved: `resolvectl dns <link> <ip>` and
// `resolvectl domain <link> ~vm`. It returns ErrNoResolved when
// systemd-resolved is not active. The setting lasts until the link goes
// away, so the daemon calls it after creating the bridge.
func ResolvedLink(ctx context.Context, link string, serverIP netip.Addr) error {
	if !ResolvedActive(ctx) {
		return ErrNoResolved
	}
	if err := execx.Check(ctx, "resolvectl", "dns", link, serverIP.String()); err != nil {
		return fmt.Errorf("point systemd-resolved at the vm dns server: %w", err)
	}
	if err := execx.Check(ctx, "resolvectl", "domain", link, "~"+strings.TrimSuffix(DefaultZone, ".")); err != nil {
		return fmt.Errorf("route the .vm domain through %s: %w", link, err)
	}
	return nil
}

// HostResolverAdvice returns one line for `banger doctor` on how `.vm`
// names reach the host resolver in use.
func HostResolverAdvice(ctx context.Context, serverIP netip.Addr) string {
	switch {
	case ResolvedActive(ctx):
		return "systemd-resolved: bangerd routes ~vm to " + serverIP.String() + " on the bridge itself (resolvectl dns/domain)"
	case usesDnsmasq():
		return fmt.Sprintf("dnsmasq: add 'server=/vm/%s' to /etc/dnsmasq.d/banger.conf and restart dnsmasq", serverIP)
	default:
		return fmt.Sprintf("plain /etc/resolv.conf cannot send one domain to another server: install systemd-resolved or dnsmasq (then 'server=/vm/%s'); ssh, scp and rsync reach NAME.vm without it after 'banger ssh-config --install'", serverIP)
	}
}

// usesDnsmasq reports whether a local dnsmasq is the host resolver: its
// config exists and resolv.conf points at loopback.
func usesDnsmasq() bool {
	_, e1 := os.Stat(hostPath("/etc/dnsmasq.conf"))
	_, e2 := os.Stat(hostPath("/etc/dnsmasq.d"))
	_, e3 := os.Stat(hostPath("/etc/NetworkManager/dnsmasq.d"))
	if e1 != nil && e2 != nil && e3 != nil {
		return false
	}
	b, err := os.ReadFile(hostPath("/etc/resolv.conf"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "nameserver" {
			if ip, err := netip.ParseAddr(f[1]); err == nil && ip.IsLoopback() {
				return true
			}
		}
	}
	return false
}
