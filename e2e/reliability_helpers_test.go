package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // PRAGMA integrity_check on the state database
)

// The reliability suite (issue 8, part 2; docs/testing.md "Reliability
// suite"). Checks that use fakebangerd (a daemon with an in-memory VMM)
// are quick and run in every `go test ./e2e`; checks that boot real VMs
// are long and run only with BANGER_RELIABILITY=1 (`make reliability`).

// longReliability skips a long reliability check unless the suite was
// asked for, then needs root, qemu and a bundle like any real-VM test.
func longReliability(t *testing.T) {
	t.Helper()
	if os.Getenv("BANGER_RELIABILITY") != "1" {
		t.Skip("long reliability check: run with BANGER_RELIABILITY=1 (make reliability)")
	}
	requireRoot(t)
}

// figure prints one measured figure in the form the suite's summary greps
// (go test shows it with -v, as `make reliability` runs).
func figure(t *testing.T, name string, value any, unit string) {
	t.Helper()
	fmt.Printf("figure: %s %v %s\n", name, value, unit)
}

var (
	fakeBinOnce sync.Once
	fakeBin     string
	fakeBinErr  error
)

// fakeDaemonBin builds e2e/fakebangerd once per test binary.
func fakeDaemonBin(t *testing.T) string {
	t.Helper()
	fakeBinOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		out := filepath.Join(binDir, "fakebangerd")
		cmd := exec.Command("go", "build", "-ldflags", "-X github.com/bangerdev/banger/internal/version.Version=e2e", "-o", out, "./e2e/fakebangerd")
		cmd.Dir = filepath.Dir(filepath.Dir(file))
		cmd.Env = scrubbedEnviron()
		if b, err := cmd.CombinedOutput(); err != nil {
			fakeBinErr = fmt.Errorf("build fakebangerd: %v\n%s", err, b)
			return
		}
		fakeBin = out
	})
	if fakeBinErr != nil {
		t.Fatal(fakeBinErr)
	}
	return fakeBin
}

// newFakeEnv is an env whose CLI auto-starts fakebangerd: real CLI,
// socket, SQLite and disk files, in-memory VMM, network and firewall. A
// stand-in bundle (a kernel and a rootfs of zeros) is enough, since no
// guest runs. Needs neither root nor qemu (qemu-img and mkfs.ext4 build
// the disks).
func newFakeEnv(t *testing.T) *Env {
	t.Helper()
	for _, p := range []string{"qemu-img", "mkfs.ext4"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s not installed (apt-get install qemu-utils e2fsprogs)", p)
		}
	}
	bin := fakeDaemonBin(t)
	bundle := t.TempDir()
	for name, data := range map[string]string{
		"bundle.json": `{"version":1,"kernel":"bzImage","rootfs":"rootfs.ext4"}`,
		"bzImage":     strings.Repeat("k", 1024),
		"rootfs.ext4": strings.Repeat("\x00", 1<<20),
	} {
		if err := os.WriteFile(filepath.Join(bundle, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e := newEnvAt(t, bundle, "")
	for i, kv := range e.env {
		if strings.HasPrefix(kv, "BANGER_DAEMON_BIN=") {
			e.env[i] = "BANGER_DAEMON_BIN=" + bin
		}
	}
	return e
}

// daemonPIDs lists the live daemon processes serving e's socket.
func (e *Env) daemonPIDs() []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, d := range ents {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if len(args) == 3 && strings.HasSuffix(args[0], "bangerd") && args[2] == e.Socket && !zombie(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// zombie reports whether pid has exited but not been reaped.
func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || len(s) < i+3 || s[i+2] == 'Z'
}

// killDaemon SIGKILLs every daemon of e and waits for them to die.
func (e *Env) killDaemon() int {
	n := 0
	for _, pid := range e.daemonPIDs() {
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			n++
			waitDead(pid)
		}
	}
	return n
}

// dbPath is e's state database.
func (e *Env) dbPath() string { return filepath.Join(e.Home, "state", "banger", "banger.db") }

// integrityCheck runs PRAGMA integrity_check on the SQLite file at path.
func integrityCheck(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		t.Fatalf("integrity_check %s: %v", path, err)
	}
	return res
}

// apiVM is the part of `vm list --output json` the checks read.
type apiVM struct {
	Name  string `json:"name"`
	State string `json:"state"`
	IP    string `json:"ip"`
	MAC   string `json:"mac"`
	Tap   string `json:"tap"`
	NAT   bool   `json:"nat"`
	PID   int    `json:"pid"`
	Files struct {
		Dir        string `json:"dir"`
		Overlay    string `json:"overlay"`
		WorkDisk   string `json:"work_disk"`
		ConsoleLog string `json:"console_log"`
	} `json:"files"`
}

// listVMs is `vm list` decoded.
func (e *Env) listVMs() []apiVM {
	var vms []apiVM
	e.JSON(&vms, "vm", "list")
	return vms
}
