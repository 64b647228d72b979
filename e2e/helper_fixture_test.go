package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/nethelper"
	"github.com/bangerdev/banger/internal/network"
	"github.com/bangerdev/banger/internal/system"
	"github.com/bangerdev/banger/internal/testenv"
)

// helperFixture is the real privilege model on this host: banger and
// banger-nethelper built into a root-owned directory, `banger system
// install` run for two throwaway accounts, and the installed helper with
// its file capabilities, driven as those accounts. Cleanup stops their
// daemons, uninstalls and removes the accounts, whatever failed.
type helperFixture struct {
	t      *testing.T
	bin    string
	banger string
	a, b   *account
	allocA system.Allocation
	allocB system.Allocation
}

// newHelperFixture sets the fixture up, or skips where it cannot run.
func newHelperFixture(t *testing.T) *helperFixture {
	t.Helper()
	testenv.SkipShort(t, "installs the network helper and makes throwaway accounts")
	testenv.RequireRoot(t, "installs the network helper and makes throwaway accounts")
	for _, p := range []string{"useradd", "userdel", "runuser", "nft", "ip"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s not installed", p)
		}
	}
	if _, err := os.Stat(system.RegistryPath); err == nil {
		t.Skipf("%s exists: this host has real banger accounts; the suite installs and uninstalls its own", system.RegistryPath)
	}
	f := &helperFixture{t: t, bin: sharedBinaries(t)}
	f.banger = filepath.Join(f.bin, "banger")
	rt := fakeRuntime(t)
	id := make([]byte, 2)
	_, _ = rand.Read(id)
	sfx := hex.EncodeToString(id)
	f.a = newAccount(t, "bgtsa"+sfx, f.bin, rt)
	f.b = newAccount(t, "bgtsb"+sfx, f.bin, rt)
	if out, err := asRoot(f.banger, "system", "install", "--user", f.a.name, "--user", f.b.name).CombinedOutput(); err != nil {
		t.Fatalf("system install: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		for _, u := range []*account{f.a, f.b} {
			_, _ = u.run(20*time.Second, "banger", "daemon", "stop")
		}
		if out, err := asRoot(f.banger, "system", "uninstall").CombinedOutput(); err != nil {
			t.Errorf("system uninstall: %v\n%s", err, out)
		}
	})
	reg, err := system.Load(system.RegistryPath)
	if err != nil {
		t.Fatal(err)
	}
	f.allocA, _ = reg.ForUser(f.a.name)
	f.allocB, _ = reg.ForUser(f.b.name)
	f.allocA, f.allocB = reg.Effective(f.allocA), reg.Effective(f.allocB)
	return f
}

// fakeRuntime is a bundle with no real kernel: enough for a daemon that
// boots no VM. It is root-owned and readable by every account.
func fakeRuntime(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "bgt-rt-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	_ = os.Chmod(dir, 0o755)
	for name, data := range map[string]string{
		"bundle.json": `{"version":1,"kernel":"vmlinux","rootfs":"rootfs.ext4"}`,
		"vmlinux":     "\x7fELF-not-really",
		"rootfs.ext4": "x",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// helperReply is the helper's answer and how it ended.
type helperReply struct {
	nethelper.Response
	Stderr string
	Err    error
}

// helper runs the installed helper as u with the request req (JSON) and
// env (nethelper.CleanEnv when nil), as u's daemon would.
func (u *account) helper(req string, env ...string) helperReply {
	u.t.Helper()
	return u.helperCmd(nil, req, env...)
}

// helperCmd is helper with a command prefix (strace, unshare) before the
// helper's path.
func (u *account) helperCmd(prefix []string, req string, env ...string) helperReply {
	u.t.Helper()
	if env == nil {
		env = nethelper.CleanEnv()
	}
	args := append([]string{"-u", u.name, "--", "env", "-i"}, env...)
	args = append(args, prefix...)
	args = append(args, system.HelperPath)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "runuser", args...)
	cmd.Dir = "/"
	cmd.Stdin = strings.NewReader(req)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := cmd.Run()
	r := helperReply{Stderr: stderr.String(), Err: err}
	if jerr := json.Unmarshal(out.Bytes(), &r.Response); jerr != nil {
		u.t.Fatalf("helper as %s: %s: unreadable answer %q (%v), stderr %s", u.name, req, out.String(), err, stderr.String())
	}
	return r
}

// must runs a helper request that has to succeed.
func (u *account) mustHelper(req string) nethelper.Response {
	u.t.Helper()
	r := u.helper(req)
	if r.Error != "" || r.Err != nil {
		u.t.Fatalf("helper as %s: %s: %s (%v)", u.name, req, r.Error, r.Err)
	}
	return r.Response
}

// refused asserts that a request was refused with an error containing want.
func (u *account) refused(req, want string) {
	u.t.Helper()
	r := u.helper(req)
	if r.Err == nil || !strings.Contains(r.Error, want) {
		u.t.Errorf("helper as %s: %s: error %q (%v); want a refusal containing %q", u.name, req, r.Error, r.Err, want)
	}
}

// uid is the account's numeric uid.
func (u *account) uidInt() int {
	n, _ := strconv.Atoi(u.uid)
	return n
}

// tap is a tap name of u's own prefix.
func (u *account) tap(suffix string) string { return network.TapPrefixFor(u.uidInt()) + suffix }

// link returns what the kernel says of a link, or fails.
func mustLink(t *testing.T, name string) network.LinkInfo {
	t.Helper()
	l, err := network.ReadLink(name)
	if err != nil {
		t.Fatalf("link %s: %v", name, err)
	}
	return l
}

// guestNS attaches a network namespace to bridge through a veth pair and
// gives it ip in subnet, as a VM on that bridge would be. It is removed at
// cleanup.
func guestNS(t *testing.T, bridge string, subnet netip.Prefix, ip netip.Addr) string {
	t.Helper()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	ns := "bgtg" + hex.EncodeToString(b)
	host, peer := ns+"h", ns+"p"
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("ip", "netns", "add", ns)
	t.Cleanup(func() {
		_ = exec.Command("ip", "link", "del", host).Run()
		_ = exec.Command("ip", "netns", "del", ns).Run()
	})
	run("ip", "link", "add", host, "type", "veth", "peer", "name", peer, "netns", ns)
	run("ip", "link", "set", host, "master", bridge, "up")
	run("ip", "-n", ns, "addr", "add", fmt.Sprintf("%s/%d", ip, subnet.Bits()), "dev", peer)
	run("ip", "-n", ns, "link", "set", peer, "up")
	run("ip", "-n", ns, "route", "add", "default", "via", network.Gateway(subnet).String())
	return ns
}

// withT returns a view of u that reports to t (for use in a subtest).
func (u *account) withT(t *testing.T) *account {
	c := *u
	c.t = t
	return &c
}

// anyTaskIn reports whether a thread of process dir is in the system call
// whose /proc/PID/task/TID/syscall line starts with prefix and, when arg
// is set, has arg as its second argument.
func anyTaskIn(dir, prefix string, arg ...string) bool {
	tasks, _ := os.ReadDir(filepath.Join(dir, "task"))
	for _, task := range tasks {
		sc, _ := os.ReadFile(filepath.Join(dir, "task", task.Name(), "syscall"))
		f := strings.Fields(string(sc))
		if strings.HasPrefix(string(sc), prefix) && (len(arg) == 0 || (len(f) > 2 && f[2] == arg[0])) {
			return true
		}
	}
	return false
}
