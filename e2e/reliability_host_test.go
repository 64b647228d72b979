package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bangerdev/banger/internal/store"
)

// hostState is what banger holds on the host for one env, read from the
// host itself rather than from banger.
type hostState struct {
	VMMs   map[int]bool    // live processes whose command line names the env's home
	Taps   []string        // links enslaved to the env's bridge
	Rules  map[string]bool // VM names with rules in the env's nftables table
	Dirs   []string        // VM directories in the state dir
	Rows   []string        // VM rows in the database
	Tables bool            // the env's nftables table exists
}

// snapshot reads the host state of e.
func (e *Env) snapshot() hostState {
	e.t.Helper()
	s := hostState{VMMs: map[int]bool{}, Rules: map[string]bool{}}
	ents, _ := os.ReadDir("/proc")
	for _, d := range ents {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, _ := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		args := strings.Split(string(b), "\x00")
		if len(args) > 0 && strings.Contains(args[0], "qemu") && strings.Contains(string(b), e.Home) && !zombie(pid) {
			s.VMMs[pid] = true
		}
	}
	out, _ := exec.Command("ip", "-j", "link", "show", "master", e.Bridge).Output()
	var links []struct {
		Name string `json:"ifname"`
	}
	_ = json.Unmarshal(out, &links)
	for _, l := range links {
		s.Taps = append(s.Taps, l.Name)
	}
	if js, err := e.nftJSON(); err == nil {
		s.Tables = true
		for _, c := range strings.Split(js, `"comment": "banger:vm=`)[1:] {
			s.Rules[c[:strings.IndexByte(c, '"')]] = true
		}
	}
	dirs, _ := os.ReadDir(filepath.Join(e.Home, "state", "banger", "vms"))
	for _, d := range dirs {
		s.Dirs = append(s.Dirs, d.Name())
	}
	if st, err := store.Open(context.Background(), e.dbPath()); err == nil {
		vms, _ := st.ListVMs(context.Background())
		st.Close()
		for _, v := range vms {
			s.Rows = append(s.Rows, v.Name)
		}
	}
	return s
}

// nftJSON is `nft -j list table` of e's table, pretty-printed so rules
// can be compared and split.
func (e *Env) nftJSON() (string, error) {
	out, err := exec.Command("nft", "-j", "list", "table", "inet", "banger-"+e.Bridge).Output()
	if err != nil {
		return "", err
	}
	var v any
	if err := json.Unmarshal(out, &v); err != nil {
		return "", err
	}
	b, _ := json.MarshalIndent(v, "", " ")
	return strings.ReplaceAll(string(b), `"comment":"`, `"comment": "`), nil
}

// dnsAnswers reports whether bangerd's DNS server on the gateway answers
// name.vm with an address.
func (e *Env) dnsAnswers(name string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, "dig", "+short", "+time=1", "+tries=2", "@"+e.Gateway, name+".vm").Output()
	return strings.TrimSpace(string(out)) != ""
}

// accountedFor fails unless every VMM process, tap, NAT rule, DNS record
// (of the names in tried), VM directory and database row on the host
// belongs to a VM that `vm list` shows, with running VMs holding exactly
// their process and tap.
func (e *Env) accountedFor(tried []string) []apiVM {
	e.t.Helper()
	vms := e.listVMs()
	listed := map[string]apiVM{}
	for _, v := range vms {
		listed[v.Name] = v
	}
	s := e.snapshot()
	for pid := range s.VMMs {
		if !slices.ContainsFunc(vms, func(v apiVM) bool { return v.PID == pid && v.State == "running" }) {
			e.t.Errorf("VMM process %d belongs to no running VM in vm list", pid)
		}
	}
	for _, tap := range s.Taps {
		if !slices.ContainsFunc(vms, func(v apiVM) bool { return v.Tap == tap && v.State == "running" }) {
			e.t.Errorf("tap %s belongs to no running VM in vm list", tap)
		}
	}
	for name := range s.Rules {
		if v, ok := listed[name]; !ok || !v.NAT || v.State != "running" {
			e.t.Errorf("firewall rule for %s, which is not a running NAT VM in vm list", name)
		}
	}
	for _, d := range s.Dirs {
		if _, ok := listed[d]; !ok {
			e.t.Errorf("VM directory %s is not in vm list", d)
		}
	}
	if len(s.Rows) != len(vms) {
		e.t.Errorf("database rows %v, vm list %d VMs", s.Rows, len(vms))
	}
	for _, name := range tried {
		if _, ok := listed[name]; !ok && e.dnsAnswers(name) {
			e.t.Errorf("DNS answers %s.vm, which is not in vm list", name)
		}
	}
	for _, v := range vms {
		if v.State == "running" && (!s.VMMs[v.PID] || !slices.Contains(s.Taps, v.Tap)) {
			e.t.Errorf("vm list says %s runs (pid %d, tap %s) but the host has process %v, tap %v",
				v.Name, v.PID, v.Tap, s.VMMs[v.PID], slices.Contains(s.Taps, v.Tap))
		}
	}
	return vms
}

// deleteAllClean deletes every VM and fails unless the host holds nothing
// of them afterwards.
func (e *Env) deleteAllClean(tried []string) {
	e.t.Helper()
	for _, v := range e.listVMs() {
		if r := e.RunTimeout(2*time.Minute, "vm", "delete", "--force", v.Name); r.Code != 0 {
			e.t.Errorf("vm delete %s: exit %d: %s", v.Name, r.Code, r.Stderr)
		}
	}
	if vms := e.accountedFor(tried); len(vms) != 0 {
		e.t.Errorf("VMs left after deleting all: %d", len(vms))
	}
	s := e.snapshot()
	if len(s.VMMs)+len(s.Taps)+len(s.Rules)+len(s.Dirs)+len(s.Rows) != 0 {
		e.t.Errorf("host not clean after deleting everything: %+v", s)
	}
}

// bangerdFDs counts the open fds of the daemon serving e.
func (e *Env) bangerdFDs() int {
	pids := e.daemonPIDs()
	if len(pids) != 1 {
		e.t.Fatalf("%d daemons", len(pids))
	}
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pids[0]))
	if err != nil {
		e.t.Fatal(err)
	}
	return len(ents)
}

// goroutines is the daemon's goroutine count from `daemon status`.
func (e *Env) goroutines() int {
	var st struct {
		Goroutines int `json:"goroutines"`
	}
	e.JSON(&st, "daemon", "status")
	return st.Goroutines
}

// execCommand runs a host program and returns its combined output.
func execCommand(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
}
