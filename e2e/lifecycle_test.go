package e2e

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

type vmJSON struct {
	Name      string `json:"name"`
	State     string `json:"state"`
	IP        string `json:"ip"`
	Tap       string `json:"tap"`
	PID       int    `json:"pid"`
	MemoryMiB int    `json:"memory_mib"`
	DiskSize  int64  `json:"disk_size"`
	Files     struct {
		Dir      string `json:"dir"`
		Overlay  string `json:"overlay"`
		WorkDisk string `json:"work_disk"`
	} `json:"files"`
}

func (e *Env) show(name string) vmJSON {
	var v vmJSON
	e.JSON(&v, "vm", "show", name)
	return v
}

// ssh runs a command in the VM through `banger vm ssh` (the system ssh).
func (e *Env) ssh(name string, cmd ...string) string {
	e.t.Helper()
	return e.MustRun(append([]string{"vm", "ssh", name, "--"}, cmd...)...)
}

func linkExists(name string) bool {
	return exec.Command("ip", "link", "show", name).Run() == nil
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] != 'Z'
}

// TestVMLifecycle is the end-to-end scenario on a real VM.
func TestVMLifecycle(t *testing.T) {
	requireRoot(t)
	e := newEnv(t, "")
	const name = "life-otter"

	out := e.MustRun("vm", "create", "--name", name, "--memory", "512", "--vcpu", "1", "--disk-size", "2G")
	if !strings.Contains(out, name+" is running") {
		t.Fatalf("create output: %q", out)
	}
	v := e.show(name)
	if v.State != "running" || v.IP == "" || !processAlive(v.PID) || !linkExists(v.Tap) {
		t.Fatalf("after create: %+v (tap exists %v)", v, linkExists(v.Tap))
	}
	if got := e.ssh(name, "uname", "-a"); !strings.Contains(got, "Linux "+name) {
		t.Fatalf("uname -a = %q, want hostname %s", got, name)
	}
	e.ssh(name, "echo work-data > /root/keep.txt && echo sys-data > /etc/banger-e2e && sync")

	// Refusals that need a running VM, each with its exact message and no change.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"vm", "set", name, "--memory", "1024"}, "banger: " + name + " is running: memory, vcpu and disk size can only change while it is stopped; run 'banger vm stop " + name + "' first (--nat/--no-nat work while running)\n"},
		{[]string{"vm", "delete", name}, "banger: " + name + " is running; stop it first with 'banger vm stop " + name + "' or pass --force\n"},
		{[]string{"vm", "start", name}, "banger: " + name + " is already running; use 'banger vm restart " + name + "' to reboot it\n"},
		{[]string{"vm", "create", "--name", name}, "banger: a VM named \"" + name + "\" already exists; pick another name or delete it with 'banger vm delete " + name + "'\n"},
	} {
		r := e.Run(c.args...)
		if r.Code == 0 || r.Stderr != c.want {
			t.Errorf("banger %s: exit %d, stderr %q; want %q", strings.Join(c.args, " "), r.Code, r.Stderr, c.want)
		}
	}
	if now := e.show(name); now.MemoryMiB != 512 || now.State != "running" {
		t.Fatalf("a refused command changed the VM: %+v", now)
	}

	e.MustRun("vm", "stop", name)
	v = e.show(name)
	if v.State != "stopped" || linkExists(v.Tap) {
		t.Fatalf("after stop: state %s, tap exists %v", v.State, linkExists(v.Tap))
	}

	// Refusals while stopped/running are covered in refusals_test.go; here
	// the changes that must take effect in the guest.
	want := "banger: work disk of " + name + " is 2G; shrinking to 1G is not supported: choose a size of at least 2G\n"
	if r := e.Run("vm", "set", name, "--disk-size", "1G"); r.Code == 0 || r.Stderr != want {
		t.Fatalf("shrink: exit %d stderr %q, want %q", r.Code, r.Stderr, want)
	}
	if r := e.Run("vm", "logs", name); r.Code != 0 || !strings.Contains(r.Stdout, "login:") {
		t.Fatalf("vm logs of the last boot lack the login prompt: exit %d, %d bytes", r.Code, len(r.Stdout))
	}
	e.MustRun("vm", "set", name, "--memory", "768", "--disk-size", "3G")
	e.MustRun("vm", "start", name)
	if got := e.ssh(name, "cat /root/keep.txt /etc/banger-e2e"); got != "work-data\nsys-data\n" {
		t.Fatalf("files after stop/start = %q", got)
	}
	memKB, _ := strconv.Atoi(strings.Fields(e.ssh(name, "grep MemTotal /proc/meminfo"))[1])
	if memKB < 600*1024 || memKB > 768*1024 {
		t.Fatalf("guest MemTotal %d kB after --memory 768", memKB)
	}
	rootSize, _ := strconv.ParseInt(strings.TrimSpace(e.ssh(name, "df -B1 --output=size /root | tail -1")), 10, 64)
	if rootSize < 2900<<20 || rootSize > 3<<30 {
		t.Fatalf("/root size %d after --disk-size 3G", rootSize)
	}

	e.MustRun("vm", "restart", name)
	if got := e.ssh(name, "cat /root/keep.txt"); got != "work-data\n" {
		t.Fatalf("after restart: %q", got)
	}

	// Kill the daemon hard while the VM runs: the VM must survive, and the
	// next command auto-starts a daemon that re-adopts it.
	before := e.show(name)
	dpid := e.DaemonPID()
	if err := syscall.Kill(dpid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100 && processAlive(dpid); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if !processAlive(before.PID) {
		t.Fatal("VM died with the daemon")
	}
	var list []vmJSON
	e.JSON(&list, "vm", "list")
	if len(list) != 1 || list[0].State != "running" || list[0].PID != before.PID {
		t.Fatalf("vm list after daemon kill: %+v", list)
	}
	if e.DaemonPID() == dpid {
		t.Fatal("daemon was not restarted")
	}
	if got := e.ssh(name, "cat /root/keep.txt"); got != "work-data\n" {
		t.Fatalf("ssh after re-adoption: %q", got)
	}

	final := e.show(name)
	e.MustRun("vm", "delete", "--force", name)
	if processAlive(final.PID) {
		t.Fatal("VMM process survived delete")
	}
	if linkExists(final.Tap) {
		t.Fatal("tap survived delete")
	}
	for _, p := range []string{final.Files.Dir, final.Files.Overlay, final.Files.WorkDisk} {
		if _, err := os.Stat(p); err == nil {
			t.Fatalf("%s survived delete", p)
		}
	}
	if r := e.Run("vm", "show", name); r.Code == 0 || !strings.Contains(r.Stderr, `no VM named "`+name+`"`) {
		t.Fatalf("record survived delete: %+v", r)
	}
}
