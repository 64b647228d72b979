package nat

import (
	"bufio"
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/execx"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// lab is a miniature host: a "host" namespace with a VM bridge and an
// uplink, two "vm" namespaces behind the bridge and an "outside" namespace
// upstream. Outside routes the VM subnet back to the host, so without
// banger's rules a VM reaches it un-NATed; all addresses live only inside
// these namespaces.
type lab struct {
	host, vm1, vm2, outside netns.NsHandle
}

func newLab(t *testing.T) *lab {
	l := &lab{host: newNetns(t), vm1: newNetns(t), vm2: newNetns(t), outside: newNetns(t)}
	h := nsHandle(t, l.host)
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "bgtbr0"}}
	if err := h.LinkAdd(br); err != nil {
		t.Fatalf("bridge: %v", err)
	}
	brLink := configure(t, h, "bgtbr0", "10.213.0.1/24")
	for i, vm := range []netns.NsHandle{l.vm1, l.vm2} {
		name := []string{"bgtvm1", "bgtvm2"}[i]
		veth(t, h, name, vm)
		port := configure(t, h, name, "")
		if err := h.LinkSetMaster(port, brLink); err != nil {
			t.Fatal(err)
		}
		vh := nsHandle(t, vm)
		configure(t, vh, "eth0", []string{"10.213.0.2/24", "10.213.0.3/24"}[i])
		route(t, vh, "", "10.213.0.1")
	}
	veth(t, h, "up0", l.outside)
	configure(t, h, "up0", "198.18.0.1/24")
	oh := nsHandle(t, l.outside)
	configure(t, oh, "eth0", "198.18.0.2/24")
	route(t, oh, "10.213.0.0/24", "198.18.0.1")
	inNetns(t, l.host, func() {
		if err := EnableForwarding(); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(ipForwardPath)
		if strings.TrimSpace(string(b)) != "1" {
			t.Fatalf("ip_forward = %q after EnableForwarding", b)
		}
	})
	return l
}

// listen starts a TCP server in ns that answers each connection with the
// peer address it sees.
func listen(t *testing.T, ns netns.NsHandle, addr string) {
	var ln net.Listener
	inNetns(t, ns, func() {
		var err error
		if ln, err = net.Listen("tcp4", addr); err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { ln.Close() })
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

// dial connects from ns to addr and returns the source address the server
// saw, or "" when the connection failed.
func dial(t *testing.T, ns netns.NsHandle, addr string) string {
	var seen string
	inNetns(t, ns, func() {
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

// labFirewall makes the Firewall under test for a lab's host namespace and
// returns it with the way to run its calls there.
type labFirewall func(t *testing.T, l *lab) (Firewall, func(func()))

// nftablesLab talks netlink into the host namespace from here.
func nftablesLab(t *testing.T, l *lab) (Firewall, func(func())) {
	return NewNftablesInNetNS(int(l.host)), func(f func()) { f() }
}

// iptablesLab runs the iptables commands from inside the host namespace.
func iptablesLab(t *testing.T, l *lab) (Firewall, func(func())) {
	if !execx.Have("iptables") {
		t.Skip("iptables not installed")
	}
	return NewIptables(), func(f func()) { inNetns(t, l.host, f) }
}

// doIn runs the firewall call f through in, failing t with what on error.
func doIn(t *testing.T, in func(func()), what string, f func() error) {
	t.Helper()
	var err error
	in(func() { err = f() })
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func TestTrafficNftables(t *testing.T) { testTraffic(t, nftablesLab) }

func TestTrafficIptables(t *testing.T) { testTraffic(t, iptablesLab) }

func testTraffic(t *testing.T, mk labFirewall) {
	l := newLab(t)
	fw, in := mk(t, l)
	ctx := context.Background()
	do := func(what string, f func() error) { t.Helper(); doIn(t, in, what, f) }
	const out = "198.18.0.2:7000"
	listen(t, l.outside, out)
	listen(t, l.vm2, "10.213.0.3:7000")
	listen(t, l.host, "10.213.0.1:7000")

	// Control: a plain forwarding host lets the VM out un-NATed. The lab's
	// links may take a moment to settle on a loaded machine, so retry.
	got := ""
	for i := 0; i < 10 && got == ""; i++ {
		got = dial(t, l.vm1, out)
	}
	if got != "10.213.0.2" {
		t.Fatalf("without rules outside saw %q, want 10.213.0.2 (lab broken)", got)
	}
	do("EnsureBase", func() error { return fw.EnsureBase(ctx, "bgtbr0", testSubnet) })
	t.Cleanup(func() { in(func() { _ = fw.Teardown(ctx) }) })
	if got := dial(t, l.vm1, out); got != "" {
		t.Fatalf("non-NAT vm reached outside (seen as %q)", got)
	}
	if got := dial(t, l.vm1, "10.213.0.3:7000"); got != "10.213.0.2" {
		t.Fatalf("vm->vm blocked (%q)", got)
	}
	if got := dial(t, l.vm1, "10.213.0.1:7000"); got != "10.213.0.2" {
		t.Fatalf("vm->host blocked (%q)", got)
	}

	do("AddVM", func() error {
		return fw.AddVM(ctx, Rule{Name: "vm1", IP: mustRule("", "10.213.0.2", "").IP, Tap: "bgtvm1", OutIface: "up0"})
	})
	if got := dial(t, l.vm1, out); got != "198.18.0.1" {
		t.Fatalf("NAT vm: outside saw %q, want masqueraded 198.18.0.1", got)
	}
	if got := dial(t, l.vm2, out); got != "" {
		t.Fatalf("non-NAT vm2 reached outside (seen as %q)", got)
	}
	do("RemoveVM", func() error { return fw.RemoveVM(ctx, "vm1") })
	if got := dial(t, l.vm1, out); got != "" {
		t.Fatalf("vm reached outside after RemoveVM (seen as %q)", got)
	}
	do("Teardown", func() error { return fw.Teardown(ctx) })
	if got := dial(t, l.vm1, out); got != "10.213.0.2" {
		t.Fatalf("after Teardown outside saw %q: rules left behind", got)
	}
}
