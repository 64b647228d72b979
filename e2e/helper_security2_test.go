package e2e

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/nat"
	"github.com/bangerdev/banger/internal/nethelper"
	"github.com/bangerdev/banger/internal/network"
	"github.com/bangerdev/banger/internal/system"
)

// testContainment: the base rules exist as soon as the bridge does and a
// user cannot remove them; no request turns forwarding on for the host;
// teardown-bridge removes bridge and rules together.
func testContainment(t *testing.T, f *helperFixture) {
	a := f.a.withT(t)
	table := nat.ScopeFor(f.allocA.Bridge).Table
	hasBase := func() bool {
		out, err := exec.Command("nft", "list", "table", "inet", table).CombinedOutput()
		return err == nil && strings.Contains(string(out), "banger:base")
	}
	if !hasBase() {
		t.Fatalf("bridge %s is up without its base rules", f.allocA.Bridge)
	}
	fwdBefore, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	a.refused(`{"op":"fw-teardown"}`, "go only with the bridge")
	a.refused(`{"op":"enable-forwarding"}`, "system install")
	if !hasBase() {
		t.Fatal("a user removed the base rules of its bridge")
	}
	if now, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); !bytes.Equal(now, fwdBefore) {
		t.Fatalf("net.ipv4.ip_forward changed from %q to %q", fwdBefore, now)
	}
	if on, _ := network.Forwarding(f.allocA.Bridge); !on {
		t.Error("the bridge does not forward: NAT'd traffic could not leave it")
	}
	a.mustHelper(`{"op":"teardown-bridge"}`)
	if _, err := network.ReadLink(f.allocA.Bridge); err == nil || hasBase() {
		t.Fatalf("teardown-bridge left bridge (%v) or rules (%v)", err, hasBase())
	}
	a.mustHelper(`{"op":"ensure-bridge"}`)
}

// testOverlap: a network added after install that overlaps a's subnet
// (Docker does this) makes ensure-bridge refuse with the reason and fix.
func testOverlap(t *testing.T, f *helperFixture) {
	a := f.a.withT(t)
	a.mustHelper(`{"op":"teardown-bridge"}`)
	defer a.helper(`{"op":"ensure-bridge"}`)
	other := "bgtovl" + f.a.uid
	wide := netip.PrefixFrom(f.allocA.Subnet.Addr(), 23).Masked()
	gw := wide.Addr().Next().Next()
	for _, args := range [][]string{{"link", "add", other, "type", "bridge"}, {"addr", "add", fmt.Sprintf("%s/23", gw), "dev", other}, {"link", "set", other, "up"}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	defer exec.Command("ip", "link", "del", other).Run()
	a.refused(`{"op":"ensure-bridge"}`, "overlaps the address "+gw.String()+"/23 on "+other)
	if _, err := network.ReadLink(f.allocA.Bridge); err == nil {
		t.Fatal("ensure-bridge made the bridge despite the overlap")
	}
	_ = exec.Command("ip", "link", "del", other).Run()
	a.mustHelper(`{"op":"ensure-bridge"}`)
}

// testDNSScope: a's daemon serves .vm on a's gateway; a guest on a's
// bridge gets answers, while b's account on the host and a guest on b's
// bridge get none.
func testDNSScope(t *testing.T, f *helperFixture) {
	if _, err := exec.LookPath("dig"); err != nil {
		t.Skip("dig not installed")
	}
	f.a.withT(t).must(60*time.Second, "banger", "daemon", "status")
	gwA := network.Gateway(f.allocA.Subnet).String()
	ask := func(ns, as string) string {
		args := []string{"+time=1", "+tries=1", "@" + gwA, "nothing.vm"}
		var cmd *exec.Cmd
		switch {
		case ns != "":
			cmd = exec.Command("ip", append([]string{"netns", "exec", ns, "dig"}, args...)...)
		default:
			cmd = exec.Command("runuser", append([]string{"-u", as, "--", "dig"}, args...)...)
		}
		out, _ := cmd.CombinedOutput()
		status, _ := digStatus(string(out))
		return status
	}
	own := guestNS(t, f.allocA.Bridge, f.allocA.Subnet, f.allocA.Subnet.Addr().Next().Next().Next())
	if !waitFor(20*time.Second, 500*time.Millisecond, func() bool { return ask(own, "") == "NXDOMAIN" }) {
		t.Fatalf("a guest on a's bridge got no answer from %s", gwA)
	}
	if s := ask("", f.b.name); s != "" {
		t.Errorf("b's account on the host got a DNS answer (%s) from a's gateway", s)
	}
	foreign := guestNS(t, f.allocB.Bridge, f.allocB.Subnet, f.allocB.Subnet.Addr().Next().Next().Next())
	if s := ask(foreign, ""); s != "" {
		t.Errorf("a guest on b's bridge got a DNS answer (%s) from a's gateway", s)
	}
	f.a.withT(t).must(30*time.Second, "banger", "daemon", "stop")
}

// testLimits: taps and NAT rules stop at the caps; a huge sync is refused
// at once; a sync within the cap is one transaction. Figures for make
// reliability.
func testLimits(t *testing.T, f *helperFixture) {
	a := f.a.withT(t)
	uid := f.a.uidInt()
	var made []string
	defer func() {
		for _, tap := range made {
			a.helper(fmt.Sprintf(`{"op":"delete-tap","tap":%q}`, tap))
		}
	}()
	start := time.Now()
	refusedAt := -1
	for i := 0; i <= f.allocA.MaxTaps+1; i++ {
		tap := f.a.tap(fmt.Sprintf("l%02d", i))
		r := a.helper(fmt.Sprintf(`{"op":"create-tap","tap":%q}`, tap))
		if r.Err != nil {
			if !strings.Contains(r.Error, "max_taps") {
				t.Fatalf("tap %d: %s", i, r.Error)
			}
			refusedAt = i
			break
		}
		made = append(made, tap)
	}
	elapsed := time.Since(start)
	n, _ := network.CountTaps(uid)
	figure(t, "helper_max_taps", f.allocA.MaxTaps, "taps")
	figure(t, "helper_taps_created_until_refused", len(made), "taps")
	figure(t, "helper_create_tap_ms", fmt.Sprintf("%.1f", float64(elapsed.Milliseconds())/float64(len(made)+1)), "ms/request")
	if refusedAt < 0 || n != f.allocA.MaxTaps {
		t.Fatalf("tap limit %d: refused at %d, %d taps held", f.allocA.MaxTaps, refusedAt, n)
	}

	out, err := network.DefaultRouteInterface()
	if err != nil {
		t.Skipf("no default route, no NAT: %v", err)
	}
	rules := func(k int) string {
		var b strings.Builder
		b.WriteString(`{"op":"fw-sync","rules":[`)
		for i := range k {
			if i > 0 {
				b.WriteString(",")
			}
			ip := f.allocA.Subnet.Addr().As4()
			ip[3] = byte(2 + i%250)
			fmt.Fprintf(&b, `{"name":"vm%d","ip":"%s","out":%q}`, i, netip.AddrFrom4(ip), out)
		}
		b.WriteString("]}")
		return b.String()
	}
	start = time.Now()
	a.refused(rules(1000), "max_nat")
	figure(t, "helper_sync_1000_refused_ms", time.Since(start).Milliseconds(), "ms")
	start = time.Now()
	a.mustHelper(rules(f.allocA.MaxNAT))
	figure(t, "helper_sync_max_nat_ms", time.Since(start).Milliseconds(), "ms")
	if got := a.mustHelper(`{"op":"fw-list"}`).Rules; len(got) != f.allocA.MaxNAT {
		t.Fatalf("after a sync of %d rules, %d listed", f.allocA.MaxNAT, len(got))
	}
	a.mustHelper(`{"op":"fw-sync","rules":[]}`)
}

// testTunAccess: where /dev/net/tun is not open to all, install let the
// recorded accounts open it and nobody else.
func testTunAccess(t *testing.T, f *helperFixture) {
	fi, err := os.Stat("/dev/net/tun")
	if err != nil {
		t.Skip("no /dev/net/tun")
	}
	if fi.Mode().Perm()&0o006 == 0o006 {
		t.Skipf("/dev/net/tun is %04o, open to all (the distribution default): install changed nothing to check", fi.Mode().Perm())
	}
	stranger := newAccount(t, "bgtsc"+f.a.name[len(f.a.name)-4:], f.bin, "")
	open := func(u *account) error {
		_, err := u.run(10*time.Second, "bash", "-c", "exec 3<>/dev/net/tun")
		return err
	}
	if err := open(f.a.withT(t)); err != nil {
		t.Errorf("recorded account %s cannot open /dev/net/tun: %v", f.a.name, err)
	}
	if err := open(stranger); err == nil {
		t.Errorf("unrecorded account %s can open /dev/net/tun (mode %04o)", stranger.name, fi.Mode().Perm())
	}
	if now, _ := os.Stat("/dev/net/tun"); now.Mode().Perm() != fi.Mode().Perm() {
		t.Errorf("mode changed to %04o", now.Mode().Perm())
	}
}

// testInstallTrust: install refuses a helper or banger that another
// account could swap, and changes nothing then.
func testInstallTrust(t *testing.T, f *helperFixture) {
	before, _ := os.ReadFile(system.RegistryPath)
	helperBefore, _ := os.ReadFile(system.HelperPath)
	dir := filepath.Join(f.a.home, "trap")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, bin := range []string{"banger", "banger-nethelper"} {
		data, _ := os.ReadFile(filepath.Join(f.bin, bin))
		_ = os.WriteFile(filepath.Join(dir, bin), data, 0o755)
	}
	_ = os.Chown(dir, f.a.uidInt(), f.a.uidInt())
	out, err := asRoot(filepath.Join(dir, "banger"), "system", "install", "--user", f.b.name).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "refused") {
		t.Fatalf("install from a user's directory: %v\n%s", err, out)
	}
	after, _ := os.ReadFile(system.RegistryPath)
	helperAfter, _ := os.ReadFile(system.HelperPath)
	if !bytes.Equal(before, after) || !bytes.Equal(helperBefore, helperAfter) {
		t.Fatal("a refused install changed the registry or the helper")
	}
}

// testMinor: one uid cannot be recorded twice; a caller in a user
// namespace is refused; the serving process never sees the caller's
// environment; NAT for the broadcast address is refused.
func testMinor(t *testing.T, f *helperFixture) {
	alias := "bgtsd" + f.a.name[len(f.a.name)-4:]
	if out, err := exec.Command("useradd", "-o", "-u", f.a.uid, "-M", alias).CombinedOutput(); err != nil {
		t.Fatalf("useradd alias: %v\n%s", err, out)
	}
	defer exec.Command("userdel", alias).Run()
	if out, err := asRoot(f.banger, "system", "install", "--user", alias).CombinedOutput(); err == nil || !strings.Contains(string(out), "already set up as "+f.a.name) {
		t.Errorf("install of a second name for uid %s: %v\n%s", f.a.uid, err, out)
	}

	if _, err := exec.LookPath("unshare"); err == nil {
		r := f.a.withT(t).helperCmd([]string{"unshare", "-U", "--map-user=" + f.b.uid}, `{"op":"info"}`)
		if r.Err == nil || !strings.Contains(r.Error, "user namespace") || r.Bridge != "" {
			t.Errorf("helper in a user namespace mapped to b's uid: %+v", r)
		}
	}

	// The request waits on stdin; the serving process's environment must
	// be exactly the clean one, whatever the caller set.
	cmd := exec.Command("runuser", "-u", f.a.name, "--", "env", "-i", "GODEBUG=inittrace=1", "GOGC=1", "BANGER_X=1", system.HelperPath)
	stdin, _ := cmd.StdinPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var env string
	waitFor(10*time.Second, 20*time.Millisecond, func() bool {
		env = helperEnviron(f.a.uid)
		return env != ""
	})
	stdin.Write([]byte(`{"op":"info"}`))
	stdin.Close()
	_ = cmd.Wait()
	if want := strings.Join(nethelper.CleanEnv(), "\x00") + "\x00"; env != want {
		t.Errorf("the serving helper's environment is %q; want only %q", env, want)
	}

	gw := f.allocA.Subnet.Addr().As4()
	gw[3] = 255
	if out, err := network.DefaultRouteInterface(); err == nil {
		f.a.withT(t).refused(fmt.Sprintf(`{"op":"fw-add","rules":[{"name":"b","ip":"%s","out":%q}]}`, netip.AddrFrom4(gw), out), "not a VM address")
	}
}

// helperEnviron returns the environment of uid's helper once it waits
// for its request on stdin, or "".
func helperEnviron(uid string) string {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		dir := filepath.Join("/proc", e.Name())
		exe, err := os.Readlink(filepath.Join(dir, "exe"))
		st, _ := os.ReadFile(filepath.Join(dir, "status"))
		if err != nil || exe != system.HelperPath || !strings.Contains(string(st), "\nUid:\t"+uid+"\t") {
			continue
		}
		if !anyTaskIn(dir, "0 0x0 ") {
			continue // not (yet) reading stdin
		}
		b, _ := os.ReadFile(filepath.Join(dir, "environ"))
		return string(b)
	}
	return ""
}
