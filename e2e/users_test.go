package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/testenv"
)

// account is a throwaway Linux user that runs banger as a normal user
// would: a clean environment, a normal user's PATH, its own home.
type account struct {
	t    *testing.T
	name string
	uid  string
	home string
	bin  string
	rt   string
}

// run executes banger-related commands as the account with runuser and a
// clean environment. args[0] is resolved in the shared bin dir when it
// is "banger".
func (a *account) run(timeout time.Duration, args ...string) (string, error) {
	if args[0] == "banger" {
		args[0] = filepath.Join(a.bin, "banger")
	}
	env := []string{"HOME=" + a.home, "USER=" + a.name, "LOGNAME=" + a.name, "LANG=C",
		"PATH=/usr/local/bin:/usr/bin:/bin", "BANGER_RUNTIME_DIR=" + a.rt}
	full := append([]string{"-u", a.name, "--", "env", "-i"}, env...)
	full = append(full, "timeout", fmt.Sprint(int(timeout.Seconds())))
	full = append(full, args...)
	cmd := exec.Command("runuser", full...)
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (a *account) must(timeout time.Duration, args ...string) string {
	a.t.Helper()
	out, err := a.run(timeout, args...)
	if err != nil {
		a.t.Fatalf("as %s: %s: %v\n%s", a.name, strings.Join(args, " "), err, out)
	}
	return out
}

// newAccount creates a user and removes it (and its home) at cleanup,
// after stopping anything it still runs.
func newAccount(t *testing.T, name, bin, rt string) *account {
	t.Helper()
	if out, err := exec.Command("useradd", "--create-home", "--shell", "/bin/bash", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd %s: %v\n%s", name, err, out)
	}
	t.Cleanup(func() {
		_ = exec.Command("pkill", "-KILL", "-u", name).Run()
		time.Sleep(200 * time.Millisecond)
		if out, err := exec.Command("userdel", "--remove", name).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v\n%s", name, err, out)
		}
	})
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return &account{t: t, name: name, uid: u.Uid, home: u.HomeDir, bin: bin, rt: rt}
}

// asRoot is a root command with the suite's scrubbed environment.
func asRoot(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = scrubbedEnviron()
	return cmd
}

// sharedBinaries copies banger, bangerd and banger-nethelper where every
// account can run them.
func sharedBinaries(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "banger-e2e-shared-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	for _, b := range []string{"banger", "bangerd", "banger-nethelper"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, b), "./cmd/"+b)
		cmd.Dir = root
		cmd.Env = scrubbedEnviron()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", b, err, out)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestOrdinaryUsers is the ordinary-account story end to end: one sudo
// line, then two accounts each create a NAT VM, reach the Debian mirror
// from it, log in with plain `ssh NAME.vm`, and find its VMM running as
// themselves with no capabilities, while the other account can neither
// see, reach nor change it. Uninstall and account removal leave nothing.
func TestOrdinaryUsers(t *testing.T) {
	testenv.SkipShort(t, "boots VMs as throwaway accounts")
	requireRoot(t)
	rt := runtimeDir(t)
	for _, p := range []string{"useradd", "userdel", "runuser", "ssh", "nft"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s not installed", p)
		}
	}
	bin := sharedBinaries(t)
	id := make([]byte, 2)
	_, _ = rand.Read(id)
	suffix := hex.EncodeToString(id)
	users := []*account{
		newAccount(t, "bgtua"+suffix, bin, rt),
		newAccount(t, "bgtub"+suffix, bin, rt),
	}
	banger := filepath.Join(bin, "banger")

	// Before setup: doctor says what to do in one line.
	out, err := users[0].run(30*time.Second, "banger", "doctor")
	if err == nil || strings.Count(strings.TrimSpace(out), "\n") != 0 || !strings.Contains(out, "sudo banger system install") {
		t.Fatalf("doctor before setup: %v\n%s", err, out)
	}

	if out, err := asRoot(banger, "system", "install", "--user", users[0].name, "--user", users[1].name).CombinedOutput(); err != nil {
		t.Fatalf("system install: %v\n%s", err, out)
	}
	uninstalled := false
	t.Cleanup(func() {
		for _, u := range users {
			_, _ = u.run(60*time.Second, "banger", "vm", "delete", "--force", "vm"+u.name[len(u.name)-5:])
			_, _ = u.run(20*time.Second, "banger", "daemon", "stop")
		}
		if !uninstalled {
			_ = asRoot(banger, "system", "uninstall").Run()
		}
	})
	if out, err := asRoot(banger, "system", "install", "--user", users[0].name).CombinedOutput(); err != nil {
		t.Fatalf("second system install (must be idempotent): %v\n%s", err, out)
	}

	vms := map[string]map[string]any{}
	for _, u := range users {
		name := "vm" + u.name[len(u.name)-5:]
		if out, err := u.run(60*time.Second, "banger", "doctor"); err != nil || strings.Contains(out, "MISSING") {
			t.Errorf("doctor after setup as %s: %v\n%s", u.name, err, out)
		}
		u.must(6*time.Minute, "banger", "vm", "create", "--name", name, "--nat")
		var vm map[string]any
		if err := json.Unmarshal([]byte(u.must(30*time.Second, "banger", "vm", "show", name, "-o", "json")), &vm); err != nil {
			t.Fatal(err)
		}
		vms[u.name] = vm
		u.must(30*time.Second, "banger", "ssh-config", "--install")
		if got := u.must(60*time.Second, "ssh", name+".vm", "hostname"); strings.TrimSpace(got) != name {
			t.Errorf("plain ssh %s.vm as %s ran on %q", name, u.name, got)
		}
		if code := u.must(60*time.Second, "ssh", name+".vm", mirrorCheck); strings.TrimSpace(code) != "200" {
			t.Errorf("mirror from %s's NAT VM answered %q", u.name, code)
		}
		pid := int(vm["pid"].(float64))
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(status), "\n") {
			f := strings.Fields(line)
			switch {
			case len(f) > 1 && f[0] == "Uid:" && f[1] != u.uid:
				t.Errorf("VMM of %s runs as uid %s", u.name, f[1])
			case len(f) > 1 && f[0] == "CapEff:" && f[1] != "0000000000000000":
				t.Errorf("VMM of %s has capabilities %s", u.name, f[1])
			}
		}
	}

	// Neither account can see, reach, stop or change the other's VM.
	for i, u := range users {
		other := users[1-i]
		ovm := vms[other.name]
		oname, oip, otap := ovm["name"].(string), ovm["ip"].(string), ovm["tap"].(string)
		if list := u.must(30*time.Second, "banger", "vm", "list"); strings.Contains(list, oname) {
			t.Errorf("%s sees %s's VM:\n%s", u.name, other.name, list)
		}
		if out, err := u.run(30*time.Second, "banger", "vm", "stop", oname); err == nil {
			t.Errorf("%s stopped %s's VM:\n%s", u.name, other.name, out)
		}
		if out, err := u.run(10*time.Second, "bash", "-c", "exec 3<>/dev/tcp/"+oip+"/22"); err == nil {
			t.Errorf("%s reached %s's VM at %s:22:\n%s", u.name, other.name, oip, out)
		}
		if out, err := u.run(10*time.Second, "kill", "-0", fmt.Sprint(int(ovm["pid"].(float64)))); err == nil {
			t.Errorf("%s may signal %s's VMM:\n%s", u.name, other.name, out)
		}
		req := fmt.Sprintf(`echo '{"op":"delete-tap","tap":%q}' | /usr/local/libexec/banger/banger-nethelper`, otap)
		if out, err := u.run(10*time.Second, "bash", "-c", req); err == nil || !strings.Contains(out, "refused") {
			t.Errorf("helper let %s delete %s's tap: %v\n%s", u.name, other.name, err, out)
		}
		if out, err := u.run(10*time.Second, "bash", "-c", "exec 3<>/dev/tcp/"+vms[u.name]["ip"].(string)+"/22"); err != nil {
			t.Errorf("%s cannot reach its own VM: %v\n%s", u.name, err, out)
		}
	}

	for _, u := range users {
		u.must(2*time.Minute, "banger", "vm", "delete", "--force", vms[u.name]["name"].(string))
		u.must(30*time.Second, "banger", "daemon", "stop")
	}
	if out, err := asRoot(banger, "system", "uninstall").CombinedOutput(); err != nil {
		t.Fatalf("system uninstall: %v\n%s", err, out)
	}
	uninstalled = true
	links, _ := exec.Command("ip", "-br", "link").Output()
	tables, _ := exec.Command("nft", "list", "tables").Output()
	for _, u := range users {
		br := "bgu" + u.uid
		if strings.Contains(string(links), br) || strings.Contains(string(tables), br) {
			t.Errorf("uninstall left %s behind:\n%s\n%s", br, links, tables)
		}
		if strings.Contains(string(links), vms[u.name]["tap"].(string)) {
			t.Errorf("tap of %s left behind", u.name)
		}
	}
	for _, p := range []string{"/etc/banger/users.toml", "/usr/local/libexec/banger/banger-nethelper"} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("uninstall left %s", p)
		}
	}
}
