package scripts

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/bangerdev/banger/internal/nat"
)

func TestNatShHelpAndBadInput(t *testing.T) {
	out, err := exec.Command("./nat.sh", "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "nat.sh up NAME IP") || !strings.Contains(string(out), "teardown") {
		t.Fatalf("--help: %v\n%s", err, out)
	}
	for args, want := range map[string]string{
		"up a!b 10.0.0.2":       `invalid guest name "a!b"`,
		"up vm 10.0.0.256":      `invalid address "10.0.0.256"`,
		"up vm 10.0.0.2 --out":  "--out needs an interface",
		"up vm":                 "up takes NAME IP (got 1 arguments)",
		"down":                  "down takes NAME",
		"list --bridge a;b":     `invalid bridge name "a;b"`,
		"frobnicate":            "unknown command frobnicate",
		"up vm 10.0.0.2 --nope": "unknown option --nope",
	} {
		argv := append([]string{"./nat.sh"}, strings.Fields(args)...)
		if os.Geteuid() == 0 {
			// Were a check broken, nft must not reach the host's ruleset.
			argv = append([]string{"unshare", "--net"}, argv...)
		}
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), want) {
			t.Errorf("nat.sh %s: %v %q, want an error saying %q", args, err, out, want)
		}
	}
}

// netnsLab is a set of named network namespaces (`ip netns`), deleted when
// the test ends, with everything in them.
type netnsLab struct {
	t      *testing.T
	prefix string
}

func newNetnsLab(t *testing.T) *netnsLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("nft not installed (package nftables)")
	}
	return &netnsLab{t: t, prefix: fmt.Sprintf("bgtnat%d", os.Getpid()%100000)}
}

// ns creates the namespace prefix-name (lo up) and returns its name.
func (l *netnsLab) ns(name string) string {
	l.t.Helper()
	full := l.prefix + "-" + name
	l.run("ip", "netns", "add", full)
	l.t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", full).Run() })
	l.run("ip", "-n", full, "link", "set", "lo", "up")
	return full
}

func (l *netnsLab) run(args ...string) string {
	l.t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// natSh runs nat.sh in namespace ns.
func (l *netnsLab) natSh(ns string, args ...string) string {
	l.t.Helper()
	return l.run(append([]string{"ip", "netns", "exec", ns, "./nat.sh"}, args...)...)
}

// in runs fn on a thread inside namespace ns.
func (l *netnsLab) in(ns string, fn func()) {
	l.t.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		l.t.Fatal(err)
	}
	defer func() {
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
		orig.Close()
	}()
	h, err := netns.GetFromName(ns)
	if err != nil {
		l.t.Fatal(err)
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		l.t.Fatal(err)
	}
	fn()
}

// firewall is bangerd's nftables Firewall for bridge, in namespace ns.
func (l *netnsLab) firewall(ns, bridge string) *nat.Nftables {
	l.t.Helper()
	h, err := netns.GetFromName(ns)
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { h.Close() })
	fw := nat.NewNftablesInNetNS(int(h))
	fw.Table = nat.ScopeFor(bridge).Table
	return fw
}

// uplink gives ns an interface up0 (198.18.0.1/24) with the default route.
func (l *netnsLab) uplink(ns string) {
	l.run("ip", "-n", ns, "link", "add", "up0", "type", "veth", "peer", "name", "up0p")
	l.run("ip", "-n", ns, "addr", "add", "198.18.0.1/24", "dev", "up0")
	l.run("ip", "-n", ns, "link", "set", "up0", "up")
	l.run("ip", "-n", ns, "route", "add", "default", "via", "198.18.0.2", "dev", "up0", "onlink")
}

// TestNatShWritesBangerdsRules: nat.sh and bangerd's nftables Firewall
// produce the same table for the same guests, and each removes the other's
// rules: one NAT, two writers.
func TestNatShWritesBangerdsRules(t *testing.T) {
	l := newNetnsLab(t)
	ctx := context.Background()
	for _, bridge := range []string{"bgtbr0", "banger0"} {
		table := nat.ScopeFor(bridge).Table
		byGo, bySh := l.ns("go-"+bridge), l.ns("sh-"+bridge)
		l.uplink(byGo)
		l.uplink(bySh)
		fw := l.firewall(byGo, bridge)
		if err := fw.EnsureBase(ctx, bridge, netip.MustParsePrefix("10.213.0.0/24")); err != nil {
			t.Fatal(err)
		}
		guests := []nat.Rule{
			{Name: "calm-otter", IP: netip.MustParseAddr("10.213.0.2"), OutIface: "up0"},
			{Name: "calm-otter2", IP: netip.MustParseAddr("10.213.0.12"), OutIface: "up0"},
		}
		for _, r := range guests {
			if err := fw.AddVM(ctx, r); err != nil {
				t.Fatal(err)
			}
			l.natSh(bySh, "up", r.Name, r.IP.String(), "--bridge", bridge) // --out: the default route's
		}
		want := l.run("ip", "netns", "exec", byGo, "nft", "list", "table", "inet", table)
		got := l.run("ip", "netns", "exec", bySh, "nft", "list", "table", "inet", table)
		if got != want {
			t.Fatalf("%s: nat.sh wrote\n%s\nbangerd writes\n%s", bridge, got, want)
		}

		// bangerd reads nat.sh's rules, keeps its base rules as they are
		// (same expressions: no rewrite, same handles), and removes them.
		shFw := l.firewall(bySh, bridge)
		have, err := shFw.List(ctx)
		if err != nil || !reflect.DeepEqual(have, guests) {
			t.Fatalf("%s: bangerd lists nat.sh's rules as %+v (%v), want %+v", bridge, have, err, guests)
		}
		before := l.run("ip", "netns", "exec", bySh, "nft", "-a", "list", "table", "inet", table)
		if err := shFw.EnsureBase(ctx, bridge, netip.MustParsePrefix("10.213.0.0/24")); err != nil {
			t.Fatal(err)
		}
		if after := l.run("ip", "netns", "exec", bySh, "nft", "-a", "list", "table", "inet", table); after != before {
			t.Fatalf("%s: bangerd rewrote nat.sh's base rules:\n%s\nthen\n%s", bridge, before, after)
		}
		if err := shFw.RemoveVM(ctx, "calm-otter"); err != nil {
			t.Fatal(err)
		}
		if got := l.natSh(bySh, "list", "--bridge", bridge); got != "calm-otter2 10.213.0.12 up0\n" {
			t.Fatalf("%s: after bangerd removed calm-otter, nat.sh lists %q", bridge, got)
		}
		// nat.sh removes exactly bangerd's rules of one guest ("calm-otter"
		// is a prefix of the other's name) and lists what bangerd lists.
		if got := l.natSh(byGo, "list", "--bridge", bridge); got != "calm-otter 10.213.0.2 up0\ncalm-otter2 10.213.0.12 up0\n" {
			t.Fatalf("%s: nat.sh lists bangerd's rules as %q", bridge, got)
		}
		l.natSh(byGo, "down", "calm-otter", "--bridge", bridge)
		if have, err := fw.List(ctx); err != nil || len(have) != 1 || have[0].Name != "calm-otter2" {
			t.Fatalf("%s: after nat.sh down calm-otter bangerd lists %+v (%v)", bridge, have, err)
		}
		l.natSh(byGo, "teardown", "--bridge", bridge)
		if out, err := exec.Command("ip", "netns", "exec", byGo, "nft", "list", "table", "inet", table).CombinedOutput(); err == nil {
			t.Fatalf("%s: table left after teardown:\n%s", bridge, out)
		}
	}
}

// TestNatShTraffic proves the rules with real packets: a host namespace
// with a VM bridge and an uplink, two guest namespaces behind the bridge
// and an "outside" one upstream that routes the VM subnet back, so that
// without rules a guest reaches it un-NATed.
func TestNatShTraffic(t *testing.T) {
	l := newNetnsLab(t)
	host, vm1, vm2, outside := l.ns("host"), l.ns("vm1"), l.ns("vm2"), l.ns("out")
	l.run("ip", "-n", host, "link", "add", "bgtbr0", "type", "bridge")
	l.run("ip", "-n", host, "addr", "add", "10.213.0.1/24", "dev", "bgtbr0")
	l.run("ip", "-n", host, "link", "set", "bgtbr0", "up")
	for i, vm := range []string{vm1, vm2} {
		port := fmt.Sprintf("bgtvm%d", i+1)
		l.run("ip", "-n", host, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", vm)
		l.run("ip", "-n", host, "link", "set", port, "master", "bgtbr0", "up")
		l.run("ip", "-n", vm, "addr", "add", fmt.Sprintf("10.213.0.%d/24", i+2), "dev", "eth0")
		l.run("ip", "-n", vm, "link", "set", "eth0", "up")
		l.run("ip", "-n", vm, "route", "add", "default", "via", "10.213.0.1")
	}
	l.run("ip", "-n", host, "link", "add", "up0", "type", "veth", "peer", "name", "eth0", "netns", outside)
	l.run("ip", "-n", host, "addr", "add", "198.18.0.1/24", "dev", "up0")
	l.run("ip", "-n", host, "link", "set", "up0", "up")
	l.run("ip", "-n", outside, "addr", "add", "198.18.0.2/24", "dev", "eth0")
	l.run("ip", "-n", outside, "link", "set", "eth0", "up")
	l.run("ip", "-n", outside, "route", "add", "10.213.0.0/24", "via", "198.18.0.1")
	l.run("ip", "netns", "exec", host, "sysctl", "-qw", "net.ipv4.ip_forward=1")

	const server = "198.18.0.2:7000"
	l.serve(outside, server)
	seen := ""
	for i := 0; i < 10 && seen == ""; i++ { // links may take a moment to settle
		seen = l.dial(vm1, server)
	}
	if seen != "10.213.0.2" {
		t.Fatalf("without rules outside saw %q, want 10.213.0.2 (lab broken)", seen)
	}
	l.natSh(host, "up", "vm1", "10.213.0.2", "--bridge", "bgtbr0", "--out", "up0")
	if got := l.dial(vm1, server); got != "198.18.0.1" {
		t.Fatalf("nat.sh up: outside saw %q, want the masqueraded 198.18.0.1", got)
	}
	if got := l.dial(vm2, server); got != "" {
		t.Fatalf("a guest without NAT reached the outside (seen as %q)", got)
	}
	l.natSh(host, "down", "vm1", "--bridge", "bgtbr0")
	if got := l.dial(vm1, server); got != "" {
		t.Fatalf("after nat.sh down the guest reached the outside (seen as %q)", got)
	}
	l.natSh(host, "teardown", "--bridge", "bgtbr0")
	if got := l.dial(vm1, server); got != "10.213.0.2" {
		t.Fatalf("after teardown outside saw %q: rules left behind", got)
	}
}

// serve answers each TCP connection to addr in ns with the peer address.
func (l *netnsLab) serve(ns, addr string) {
	var ln net.Listener
	l.in(ns, func() {
		var err error
		if ln, err = net.Listen("tcp4", addr); err != nil {
			l.t.Fatal(err)
		}
	})
	l.t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			_, _ = c.Write([]byte(host + "\n"))
			c.Close()
		}
	}()
}

// dial connects from ns to addr: the address the server saw, or "".
func (l *netnsLab) dial(ns, addr string) string {
	seen := ""
	l.in(ns, func() {
		c, err := net.DialTimeout("tcp4", addr, 700*time.Millisecond)
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		seen = strings.TrimSpace(line)
	})
	return seen
}
