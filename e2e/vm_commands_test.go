package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// procState returns the state letter of pid from /proc/PID/stat.
func procState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || len(s) < i+3 {
		return ""
	}
	return s[i+2 : i+3]
}

// TestREADMECommandsOnOneVM covers the README commands whose point is the
// VM, sharing one image and one VM between them (VMs are slow under TCG):
// image build --package, image list/show, vm create --image, vm exec exit
// codes, vm stats, vm logs -f, daemon restart keeping NAT rules (same
// handles), DNS and the mirror, a graceful vm stop, vm set --vcpu seen by
// the guest, vm kill --signal, vm delete and image delete.
func TestREADMECommandsOnOneVM(t *testing.T) {
	requireRoot(t)
	for _, tool := range []string{"dig", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make deps)", tool)
		}
	}
	e := newEnv(t, "")
	const img, name = "tools-e2e", "cmd-otter"

	// image build --package: the package is in the image, and the image
	// lists it.
	start := time.Now()
	if r := e.RunTimeout(30*time.Minute, "image", "build", "--name", img, "--package", "jq"); r.Code != 0 ||
		!strings.Contains(r.Stdout, "image "+img+" built") {
		t.Fatalf("image build: exit %d\n%s\n%s\ndaemon log:\n%s", r.Code, r.Stdout, r.Stderr, e.DaemonLog(40))
	}
	t.Logf("image build took %s", time.Since(start).Round(time.Second))
	var imgs []struct {
		Name     string   `json:"name"`
		Path     string   `json:"path"`
		Packages []string `json:"packages"`
		Builtin  bool     `json:"builtin"`
	}
	e.JSON(&imgs, "image", "list")
	var imgPath string
	for _, im := range imgs {
		if im.Name == img {
			imgPath = im.Path
			if im.Builtin || !contains(im.Packages, "jq") {
				t.Fatalf("image list entry %+v; want a user image with jq", im)
			}
		}
	}
	if imgPath == "" {
		t.Fatalf("image list lacks %s: %+v", img, imgs)
	}
	if out := e.MustRun("image", "show", img); !strings.Contains(out, "jq") {
		t.Fatalf("image show %s:\n%s", img, out)
	}

	// vm create --image: the VM boots the built image.
	e.MustRun("vm", "create", "--name", name, "--image", img, "--nat", "--memory", "512", "--vcpu", "1", "--disk-size", "1G")
	var v struct {
		vmJSON
		Image     string `json:"image"`
		VCPUs     int    `json:"vcpus"`
		LastError string `json:"last_error"`
	}
	e.JSON(&v, "vm", "show", name)
	if v.Image != img || v.State != "running" {
		t.Fatalf("vm show after create --image: %+v", v)
	}
	if got := e.ssh(name, "echo '{\"a\":42}' | jq .a"); got != "42\n" {
		t.Fatalf("jq from the built image: %q", got)
	}

	t.Run("ExecExitCodes", func(t *testing.T) {
		e := e.withT(t)
		for cmd, want := range map[string]int{"true": 0, "exit 7": 7, "false": 1, "exit 200": 200} {
			r := e.RunTimeout(3*time.Minute, "vm", "exec", name, "--", "sh", "-c", cmd)
			if r.Code != want {
				t.Errorf("vm exec -- sh -c %q: exit %d, want %d (stderr %q)", cmd, r.Code, want, r.Stderr)
			}
		}
		r := e.RunTimeout(3*time.Minute, "vm", "exec", name, "--", "sh", "-c", "echo out; echo err >&2")
		if r.Code != 0 || r.Stdout != "out\n" || !strings.Contains(r.Stderr, "err") {
			t.Errorf("vm exec output: %+v", r)
		}
	})

	t.Run("Stats", func(t *testing.T) {
		e := e.withT(t)
		var st struct {
			State string `json:"state"`
			Host  struct {
				RSS      int64 `json:"rss_bytes"`
				WorkDisk int64 `json:"work_disk_size"`
			} `json:"host"`
			Guest *struct {
				Uptime   float64 `json:"uptime_seconds"`
				MemTotal int64   `json:"mem_total"`
				WorkSize int64   `json:"work_size"`
			} `json:"guest"`
			GuestError string `json:"guest_error"`
		}
		e.JSON(&st, "vm", "stats", name)
		if st.State != "running" || st.Host.RSS <= 0 || st.Host.WorkDisk != 1<<30 {
			t.Errorf("vm stats host side: %+v", st)
		}
		if st.Guest == nil || st.Guest.Uptime <= 0 || st.Guest.MemTotal < 300<<20 || st.Guest.MemTotal > 512<<20 || st.Guest.WorkSize <= 0 {
			t.Errorf("vm stats guest side: %+v (guest error %q)", st.Guest, st.GuestError)
		}
		if out := e.MustRun("vm", "stats", name); !strings.Contains(out, "state:        running") || !strings.Contains(out, "guest uptime:") {
			t.Errorf("vm stats text:\n%s", out)
		}
	})

	t.Run("LogsFollow", func(t *testing.T) {
		e := e.withT(t)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, filepath.Join(binDir, "banger"), "--socket", e.Socket, "vm", "logs", "-f", name)
		cmd.Env = e.env
		var out syncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		defer func() { cancel(); <-done }()
		time.Sleep(2 * time.Second)
		marker := "banger-follow-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		e.ssh(name, "echo "+marker+" > /dev/console")
		if !waitFor(60*time.Second, 500*time.Millisecond, func() bool { return strings.Contains(out.String(), marker) }) {
			t.Fatalf("vm logs -f did not print a line written to the console after it started:\n%s", tail(out.String(), 20))
		}
		select {
		case <-done:
			t.Fatal("vm logs -f exited instead of following")
		default:
		}
	})

	t.Run("DaemonRestartKeepsNATAndDNS", func(t *testing.T) {
		e := e.withT(t)
		rules := rulesOf(e.nftRules(), name)
		if len(rules) == 0 {
			t.Fatalf("no NAT rules for %s", name)
		}
		pid := e.DaemonPID()
		e.MustRun("daemon", "stop")
		if !waitDead(pid) {
			t.Fatal("daemon did not stop")
		}
		if !processAlive(v.PID) {
			t.Fatal("VM died with the daemon")
		}
		e.MustRun("vm", "list") // starts a new daemon, which re-adopts the VM
		if now := rulesOf(e.nftRules(), name); !sameRules(now, rules) {
			t.Errorf("NAT rules changed across a daemon restart:\nbefore %+v\nafter  %+v", rules, now)
		}
		checkTable(t, e.nftRules(), []string{name}, []string{v.IP})
		if !waitFor(10*time.Second, 200*time.Millisecond, func() bool {
			return strings.TrimSpace(e.dig("+short", name+".vm")) == v.IP
		}) {
			t.Errorf("dig %s.vm after daemon restart:\n%s", name, e.dig(name+".vm"))
		}
		if ok, r := reachesMirror(e, name, 3); !ok {
			t.Errorf("%s lost the mirror after a daemon restart: %+v", name, r)
		}
	})

	// vm stop is graceful: the guest powers off (console), no kill.
	killsBefore := strings.Count(e.DaemonLog(1<<20), "SIGKILL")
	r := e.RunTimeout(3*time.Minute, "vm", "stop", name)
	if r.Code != 0 || strings.Contains(r.Stdout+r.Stderr, "killing") {
		t.Fatalf("vm stop: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	e.JSON(&v, "vm", "show", name)
	if v.State != "stopped" || v.LastError != "" {
		t.Fatalf("after vm stop: state %s, last error %q", v.State, v.LastError)
	}
	if logs := e.MustRun("vm", "logs", name); !strings.Contains(logs, "reboot: Power down") {
		t.Fatalf("console of a stopped VM lacks the guest's power-off:\n%s", tail(logs, 20))
	}
	if strings.Count(e.DaemonLog(1<<20), "SIGKILL") != killsBefore {
		t.Fatalf("daemon log mentions SIGKILL after a graceful stop:\n%s", e.DaemonLog(40))
	}

	// vm set --vcpu, seen by the guest after start.
	e.MustRun("vm", "set", name, "--vcpu", "2")
	e.MustRun("vm", "start", name)
	if got := strings.TrimSpace(e.ssh(name, "nproc")); got != "2" {
		t.Fatalf("nproc after vm set --vcpu 2 = %q", got)
	}

	// vm kill --signal: STOP pauses the VMM, CONT resumes it, TERM ends it.
	e.JSON(&v, "vm", "show", name)
	e.MustRun("vm", "kill", "--signal", "STOP", name)
	if !waitFor(5*time.Second, 100*time.Millisecond, func() bool { return procState(v.PID) == "T" }) {
		t.Errorf("VMM state after --signal STOP: %q, want T", procState(v.PID))
	}
	e.MustRun("vm", "kill", "--signal", "CONT", name)
	if !waitFor(5*time.Second, 100*time.Millisecond, func() bool { st := procState(v.PID); return st != "T" && st != "" }) {
		t.Errorf("VMM state after --signal CONT: %q", procState(v.PID))
	}
	e.MustRun("vm", "kill", "--signal", "TERM", name)
	if !waitFor(15*time.Second, 200*time.Millisecond, func() bool { return !processAlive(v.PID) }) {
		t.Fatal("VMM alive after --signal TERM")
	}
	e.JSON(&v, "vm", "show", name)
	if v.State != "stopped" || !strings.Contains(v.LastError, "TERM") {
		t.Fatalf("after kill --signal TERM: state %s, last error %q", v.State, v.LastError)
	}

	// image delete: refused while a VM uses it, then removes record and file.
	if r := e.Run("image", "delete", img); r.Code == 0 {
		t.Fatalf("image delete of an image in use succeeded")
	}
	e.MustRun("vm", "delete", name)
	e.MustRun("image", "delete", img)
	e.JSON(&imgs, "image", "list")
	for _, im := range imgs {
		if im.Name == img {
			t.Fatalf("%s still listed after image delete", img)
		}
	}
	if _, err := os.Stat(imgPath); !os.IsNotExist(err) {
		t.Fatalf("image file %s after image delete: %v", imgPath, err)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
