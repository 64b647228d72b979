package e2e

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bangerdev/banger/internal/network"
)

// TestReliabilityHelperSecurity is the security review of the ordinary-
// user privilege model run again as a test (issue 18): the installed
// banger-nethelper with its real file capabilities, driven as two
// throwaway accounts, against real taps, bridges, nftables tables,
// sysctls, DNS sockets and /dev/net/tun. No VM boots; make test runs it
// as root and make reliability prints its figures.
func TestReliabilityHelperSecurity(t *testing.T) {
	f := newHelperFixture(t)
	a, b := f.a, f.b
	a.mustHelper(`{"op":"ensure-bridge"}`)
	b.mustHelper(`{"op":"ensure-bridge"}`)

	t.Run("tap race is refused, forced interleaving", func(t *testing.T) { testTapRace(t, a) })
	t.Run("tap names are per account", func(t *testing.T) {
		a.withT(t).refused(fmt.Sprintf(`{"op":"create-tap","tap":%q}`, b.tap("x1")), "not one of yours")
		a.withT(t).refused(fmt.Sprintf(`{"op":"create-tap","tap":%q}`, network.TapName("x1")), "not one of yours")
		victim := b.tap("v1")
		b.withT(t).mustHelper(fmt.Sprintf(`{"op":"create-tap","tap":%q}`, victim))
		before := mustLink(t, victim)
		a.withT(t).refused(fmt.Sprintf(`{"op":"delete-tap","tap":%q}`, victim), "not one of yours")
		if after := mustLink(t, victim); after != before {
			t.Errorf("b's tap changed: %+v, was %+v", after, before)
		}
		b.withT(t).mustHelper(fmt.Sprintf(`{"op":"delete-tap","tap":%q}`, victim))
	})
	t.Run("router advertisements change nothing", func(t *testing.T) { testRouterAdvert(t, f) })
	t.Run("containment is the helper's", func(t *testing.T) { testContainment(t, f) })
	t.Run("overlapping networks are refused", func(t *testing.T) { testOverlap(t, f) })
	t.Run("DNS answers the owner's VMs only", func(t *testing.T) { testDNSScope(t, f) })
	t.Run("limits", func(t *testing.T) { testLimits(t, f) })
	t.Run("tun device", func(t *testing.T) { testTunAccess(t, f) })
	t.Run("install trusts only root's files", func(t *testing.T) { testInstallTrust(t, f) })
	t.Run("minor findings", func(t *testing.T) { testMinor(t, f) })
}

// testTapRace forces the interleaving of the original attack: the
// attacker's create-tap is held (strace delays its TUNSETIFF by 2 s) until
// another owner's tap of that very name exists; the helper must refuse
// it and leave that tap exactly as it was (owner, master, index).
func testTapRace(t *testing.T, a *account) {
	if _, err := exec.LookPath("strace"); err != nil {
		t.Skip("strace not installed (apt-get install strace): it forces the interleaving")
	}
	name := a.tap("race")
	done := make(chan helperReply, 1)
	go func() {
		done <- a.withT(t).helperCmd([]string{"strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=ioctl",
			"-e", "inject=ioctl:delay_enter=2000000:when=1"}, fmt.Sprintf(`{"op":"create-tap","tap":%q}`, name))
	}()
	// Wait until the attacker's helper sits in its delayed TUNSETIFF.
	if !waitFor(20*time.Second, 20*time.Millisecond, func() bool { return inTunsetiff(a.uid) }) {
		t.Fatal("the attacker's helper never reached TUNSETIFF")
	}
	if out, err := exec.Command("ip", "tuntap", "add", "dev", name, "mode", "tap").CombinedOutput(); err != nil {
		t.Fatalf("victim tap: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", name).Run() })
	before := mustLink(t, name)
	r := <-done
	if r.Err == nil || !strings.Contains(r.Error, "belongs to no owner") {
		t.Fatalf("attacker's create-tap after the victim's: %q (%v); want a refusal", r.Error, r.Err)
	}
	if after := mustLink(t, name); after != before || after.Owner != network.NoOwner || after.Master != 0 {
		t.Fatalf("victim tap changed: %+v, was %+v", after, before)
	}
	a.withT(t).refused(fmt.Sprintf(`{"op":"delete-tap","tap":%q}`, name), "belongs to no owner")
	if _, err := network.ReadLink(name); err != nil {
		t.Fatalf("victim tap deleted: %v", err)
	}
}

// inTunsetiff reports whether a process of uid is inside the TUNSETIFF
// ioctl (as /proc/PID/task/TID/syscall shows it to root).
func inTunsetiff(uid string) bool {
	ents, _ := os.ReadDir("/proc")
	prefix := fmt.Sprintf("%d 0x", unix.SYS_IOCTL)
	for _, e := range ents {
		dir := filepath.Join("/proc", e.Name())
		st, err := os.ReadFile(filepath.Join(dir, "status"))
		if err != nil || !strings.Contains(string(st), "\nUid:\t"+uid+"\t") {
			continue
		}
		if anyTaskIn(dir, prefix, fmt.Sprintf("0x%x", unix.TUNSETIFF)) {
			return true
		}
	}
	return false
}

// testRouterAdvert sends a router advertisement with a prefix into one of
// a's taps, as a guest could, and checks the host gained no IPv6 route or
// address.
func testRouterAdvert(t *testing.T, f *helperFixture) {
	br := f.allocA.Bridge
	if off, err := network.IPv6Off(br); err != nil || !off {
		t.Fatalf("bridge %s: IPv6 not off (%v)", br, err)
	}
	tap := f.a.tap("ra")
	f.a.withT(t).mustHelper(fmt.Sprintf(`{"op":"create-tap","tap":%q}`, tap))
	defer f.a.withT(t).helper(fmt.Sprintf(`{"op":"delete-tap","tap":%q}`, tap))
	routes := func() string {
		out, _ := exec.Command("ip", "-6", "route", "show", "table", "all").Output()
		return string(out)
	}
	addrs := func() string { out, _ := exec.Command("ip", "-6", "addr", "show").Output(); return string(out) }
	defaults := func() string {
		out, _ := exec.Command("ip", "-6", "route", "show", "default").Output()
		return string(out)
	}
	d0 := defaults()
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	ifr, _ := unix.NewIfreq(tap)
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI | unix.IFF_VNET_HDR)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		t.Fatalf("attach to %s: %v", tap, err)
	}
	_ = unix.IoctlSetPointerInt(fd, unix.TUNSETVNETHDRSZ, 10)
	frame := append(make([]byte, 10), routerAdvert(net.HardwareAddr{0x02, 0xb4, 0, 0, 0, 0x66})...)
	for range 3 {
		if _, err := unix.Write(fd, frame); err != nil {
			t.Fatalf("send RA: %v", err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	figure(t, "router_advertisements_sent", 3, "frames")
	if r1, a1, d1 := routes(), addrs(), defaults(); d1 != d0 || strings.Contains(r1, "2001:db8:b4") || strings.Contains(a1, "2001:db8:b4") {
		t.Fatalf("a router advertisement from a guest changed the host:\ndefault routes before:\n%s\nafter:\n%s\nroutes:\n%s\naddresses:\n%s", d0, d1, r1, a1)
	}
}

// routerAdvert is an Ethernet frame carrying an ICMPv6 router
// advertisement (router lifetime 1800 s) with an autonomous on-link prefix
// 2001:db8:b4::/64, from the link-local address of mac to all nodes.
func routerAdvert(mac net.HardwareAddr) []byte {
	src := netip.MustParseAddr(fmt.Sprintf("fe80::%02x%02x:%02xff:fe%02x:%02x%02x", mac[0]^2, mac[1], mac[2], mac[3], mac[4], mac[5])).As16()
	dst := netip.MustParseAddr("ff02::1").As16()
	prefix := netip.MustParseAddr("2001:db8:b4::").As16()
	body := []byte{134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0}
	body = append(body, 3, 4, 64, 0xc0)
	body = binary.BigEndian.AppendUint32(body, 2592000)
	body = binary.BigEndian.AppendUint32(body, 604800)
	body = append(body, 0, 0, 0, 0)
	body = append(body, prefix[:]...)
	body = append(body, 1, 1)
	body = append(body, mac...)
	pseudo := append(append(append([]byte{}, src[:]...), dst[:]...), 0, 0, byte(len(body)>>8), byte(len(body)), 0, 0, 0, 58)
	var sum uint32
	for _, p := range [][]byte{pseudo, body} {
		for i := 0; i+1 < len(p); i += 2 {
			sum += uint32(p[i])<<8 | uint32(p[i+1])
		}
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(body[2:], ^uint16(sum))
	frame := []byte{0x33, 0x33, 0, 0, 0, 1}
	frame = append(frame, mac...)
	frame = append(frame, 0x86, 0xdd, 0x60, 0, 0, 0, byte(len(body)>>8), byte(len(body)), 58, 255)
	frame = append(frame, src[:]...)
	frame = append(frame, dst[:]...)
	return append(frame, body...)
}
