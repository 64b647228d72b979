package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/bangerdev/banger/internal/nat"
)

// ipForward is the sysctl bangerd turns on for NAT VMs.
const ipForward = "/proc/sys/net/ipv4/ip_forward"

// netPick is a bridge name and subnet no link or route on this host uses.
type netPick struct {
	Bridge, Subnet, Gateway string
}

// randomNet picks a bridge "bgte<4 hex>" and a subnet 172.31.x.0/24
// (x in 100-227) chosen independently, retrying while the bridge exists or
// the subnet is routed here, so concurrent suites and a user's own banger
// (banger0, 172.30.0.0/24) never share one.
func randomNet(t testing.TB) netPick {
	t.Helper()
	for range 50 {
		b := make([]byte, 3)
		_, _ = rand.Read(b)
		third := 100 + int(b[2])%128
		p := netPick{
			Bridge:  fmt.Sprintf("bgte%02x%02x", b[0], b[1]),
			Subnet:  fmt.Sprintf("172.31.%d.0/24", third),
			Gateway: fmt.Sprintf("172.31.%d.1", third),
		}
		if linkExists(p.Bridge) {
			continue
		}
		if out, err := exec.Command("ip", "-4", "route", "show", p.Subnet).Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
			continue
		}
		return p
	}
	t.Fatal("no free bridge name and subnet after 50 tries")
	return netPick{}
}

// registerHostCleanup registers, at the moment an installation using
// bridge is created, the removal of every host resource its bangerd may
// make: taps enslaved to the bridge or named in taps(), the bridge, its
// nftables table, its iptables chains and their jumps, and ip_forward put
// back to the value it has now. Cleanups run even when the test fails.
func registerHostCleanup(t testing.TB, bridge string, taps func() []string) {
	t.Helper()
	if old, err := os.ReadFile(ipForward); err == nil {
		// Registered first, so it runs after the daemon and its rules are gone.
		t.Cleanup(func() {
			if now, err := os.ReadFile(ipForward); err == nil && !bytes.Equal(now, old) {
				if err := os.WriteFile(ipForward, old, 0o644); err != nil {
					t.Logf("restore %s to %q: %v", ipForward, bytes.TrimSpace(old), err)
				}
			}
		})
	}
	t.Cleanup(func() {
		for _, tap := range append(enslaved(bridge), taps()...) {
			if linkExists(tap) {
				t.Logf("removing tap %s left behind", tap)
				_ = exec.Command("ip", "link", "del", tap).Run()
			}
		}
		_ = exec.Command("ip", "link", "del", bridge).Run()
		sc := nat.ScopeFor(bridge)
		_ = exec.Command("nft", "delete", "table", "inet", sc.Table).Run()
		removeChain("filter", "FORWARD", sc.FwdChain)
		removeChain("nat", "POSTROUTING", sc.PostChain)
	})
}

// enslaved lists the links whose master is bridge.
func enslaved(bridge string) []string {
	out, err := exec.Command("ip", "-j", "link", "show", "master", bridge).Output()
	if err != nil {
		return nil
	}
	var links []struct {
		Name string `json:"ifname"`
	}
	_ = json.Unmarshal(out, &links)
	var names []string
	for _, l := range links {
		names = append(names, l.Name)
	}
	return names
}

// removeChain deletes an iptables chain and every jump to it from parent;
// a missing chain or iptables is not an error.
func removeChain(table, parent, chain string) {
	if _, err := exec.LookPath("iptables"); err != nil {
		return
	}
	ipt := func(args ...string) error {
		return exec.Command("iptables", append([]string{"-w", "-t", table}, args...)...).Run()
	}
	if ipt("-S", chain) != nil {
		return
	}
	for ipt("-D", parent, "-j", chain) == nil {
	}
	_ = ipt("-F", chain)
	_ = ipt("-X", chain)
}

// killUnder SIGKILLs every process whose command line mentions dir (a
// daemon or VMM of a private installation that outlived its test).
func killUnder(dir string) {
	out, _ := exec.Command("pgrep", "-f", dir).Output()
	for _, f := range strings.Fields(string(out)) {
		var pid int
		fmt.Sscan(f, &pid)
		if pid > 0 && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
