package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/api"
)

// mustRun runs banger against be and fails the test on an error.
func mustRun(t *testing.T, be *fakeBackend, args ...string) string {
	t.Helper()
	out, stderr, err := run(t, be, args...)
	if err != nil {
		t.Fatalf("banger %s: %v (stderr %q)", strings.Join(args, " "), err, stderr)
	}
	return out
}

// expectText compares output with a hand-written expectation line by line.
func expectText(t *testing.T, what, got, want string) {
	t.Helper()
	want = strings.TrimPrefix(want, "\n")
	if got == want {
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Errorf("%s line %d:\n got %q\nwant %q", what, i+1, g, w)
		}
	}
}

func TestVMListText(t *testing.T) {
	got := mustRun(t, newFake(), "vm", "list")
	expectText(t, "vm list", got, `
NAME       STATE    IMAGE       IP                VCPU  MEMORY  DISK  AGE
web        running  debian-12   172.16.0.2 (nat)  2     1G      8G    3d
db         stopped  debian-12   -                 1     512M    4G    5h
build-box  running  alpine-dev  172.16.0.4        4     4G      20G   10m
`)
	// ls is the same command; an empty list is just the header.
	if got2 := mustRun(t, newFake(), "vm", "ls"); got2 != got {
		t.Errorf("vm ls differs from vm list:\n%s", got2)
	}
	empty := newFake()
	empty.vms = map[string]api.VM{}
	expectText(t, "empty vm list", mustRun(t, empty, "vm", "list"), "NAME  STATE  IMAGE  IP  VCPU  MEMORY  DISK  AGE\n")
}

func TestVMListJSON(t *testing.T) {
	var vms []api.VM
	decode(t, mustRun(t, newFake(), "vm", "list", "-o", "json"), &vms)
	if len(vms) != 3 || vms[0].Name != "web" || vms[1].Name != "db" || vms[2].Name != "build-box" {
		t.Fatalf("names = %+v", vms)
	}
	if w := vms[0]; w.IP != "172.16.0.2" || !w.NAT || w.MemoryMiB != 1024 || w.DiskSize != 8<<30 || w.PID != 4242 || !w.CreatedAt.Equal(epoch.AddDate(0, 0, -3)) {
		t.Fatalf("web = %+v", w)
	}
	// No VMs is an empty array, not null: scripts can iterate it.
	empty := newFake()
	empty.vms = map[string]api.VM{}
	if got := mustRun(t, empty, "vm", "list", "--output", "json"); got != "[]\n" {
		t.Fatalf("empty list JSON = %q", got)
	}
}

func TestVMShowText(t *testing.T) {
	expectText(t, "vm show web", mustRun(t, newFake(), "vm", "show", "web"), `
name:           web
state:          running
image:          debian-12
ip:             172.16.0.2
dns:            web.vm
mac:            52:54:00:12:34:56
tap:            tap-web
nat:            true
vcpus:          2
memory:         1G
work disk:      8G
driver:         qemu (tcg)
pid:            4242
created:        2025-02-26 12:00:00
started:        2025-03-01 10:30:00 (1h ago)
last boot:      -
dir:            /s/vms/web
overlay:        /s/vms/web/overlay.qcow2 (qcow2)
work disk file: /s/vms/web/work.ext4
console log:    /s/vms/web/console.log
control socket: /s/vms/web/qmp.sock
kernel:         /r/vmlinuz
initrd:         -
base image:     /s/images/debian-12.ext4
last error:     -
saved state:    -
`)
	// A stopped VM has no address, pid or start time, and shows its last error.
	got := mustRun(t, newFake(), "vm", "show", "db")
	for _, want := range []string{"\nip:             -\n", "\npid:            -\n", "\nstarted:        -\n",
		"\ninitrd:         /r/initrd.img\n", "\ncontrol socket: -\n", "\nlast error:     guest did not answer SSH\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("vm show db lacks %q:\n%s", want, got)
		}
	}
}

func TestVMShowJSONAndMissing(t *testing.T) {
	var vm api.VM
	decode(t, mustRun(t, newFake(), "-o", "json", "vm", "show", "web"), &vm)
	if vm.Name != "web" || vm.Files.ControlSocket != "/s/vms/web/qmp.sock" || vm.Accel != "tcg" || !vm.StartedAt.Equal(epoch.Add(-90*60e9)) {
		t.Fatalf("vm = %+v", vm)
	}
	out, _, err := run(t, newFake(), "vm", "show", "nope")
	if err == nil || err.Error() != `no VM named "nope"; see 'banger vm list'` || out != "" {
		t.Fatalf("missing VM: err %v, out %q", err, out)
	}
}

func TestVMStatsText(t *testing.T) {
	f := newFake()
	f.stats["web"] = api.VMStats{Name: "web", State: api.StateRunning,
		Host: api.HostStats{CPUSeconds: 12.34, CPUPercent: 3.25, RSSBytes: 300 << 20, WorkDiskSize: 8 << 30, WorkDiskAlloc: 1536 << 20,
			OverlayAlloc: 64 << 20, DiskReadBytes: 10 << 20, DiskWriteBytes: 5 << 20, NetRxBytes: 2048, NetTxBytes: 1 << 20,
			StateAlloc: 1 << 30},
		Guest: &api.GuestStats{UptimeSeconds: 5400, Load1: 0.5, Load5: 0.25, Load15: 0.125, MemTotal: 1 << 30, MemAvailable: 768 << 20,
			RootSize: 2 << 30, RootUsed: 1 << 30, WorkSize: 8 << 30, WorkUsed: 512 << 20}}
	expectText(t, "vm stats web", mustRun(t, f, "vm", "stats", "web"), `
state:        running
host cpu:     12.3s (3.2%)
host rss:     300M
work disk:    1.5G allocated of 8G
overlay:      64M allocated
disk io:      read 10M, written 5M
net io:       rx 2K, tx 1M
saved state:  1G allocated
guest uptime: 1h
guest load:   0.50 0.25 0.12
guest memory: 256M used of 1G
guest /:      1G used of 2G
guest /root:  512M used of 8G
`)
	f.stats["db"] = api.VMStats{Name: "db", State: api.StateRunning, GuestError: "ssh: connection refused"}
	got := mustRun(t, f, "vm", "stats", "db")
	if !strings.HasSuffix(got, "\nguest:     ssh: connection refused\n") || strings.Contains(got, "guest load") || strings.Contains(got, "saved state") {
		t.Errorf("stats without guest figures:\n%s", got)
	}
}

func TestVMStatsJSON(t *testing.T) {
	f := newFake()
	f.stats["web"] = api.VMStats{Name: "web", State: api.StateRunning, Host: api.HostStats{RSSBytes: 300 << 20},
		Guest: &api.GuestStats{MemTotal: 1 << 30}}
	var st api.VMStats
	decode(t, mustRun(t, f, "vm", "stats", "web", "-o", "json"), &st)
	if st.Name != "web" || st.Host.RSSBytes != 300<<20 || st.Guest == nil || st.Guest.MemTotal != 1<<30 {
		t.Fatalf("stats = %+v", st)
	}
	// The raw document keeps the API's field names.
	out := mustRun(t, f, "vm", "stats", "web", "-o", "json")
	for _, key := range []string{`"rss_bytes": 314572800`, `"mem_total": 1073741824`, `"state": "running"`} {
		if !strings.Contains(out, key) {
			t.Errorf("stats JSON lacks %s:\n%s", key, out)
		}
	}
}

func TestImageListAndShow(t *testing.T) {
	expectText(t, "image list", mustRun(t, newFake(), "image", "list"), `
NAME        SOURCE  SIZE  VMS  AGE
debian-12   bundle  2G    2    3d
alpine-dev  built   1.5G  1    1h
`)
	var ims []api.Image
	decode(t, mustRun(t, newFake(), "image", "ls", "-o", "json"), &ims)
	if len(ims) != 2 || ims[0].Name != "debian-12" || !ims[0].Builtin || ims[1].Size != 1536<<20 {
		t.Fatalf("images = %+v", ims)
	}
	expectText(t, "image show", mustRun(t, newFake(), "image", "show", "alpine-dev"), `
name:     alpine-dev
path:     /s/images/alpine-dev.ext4
size:     1.5G
kernel:   /r/vmlinuz
initrd:   /r/initrd.img
modules:  /r/modules
builtin:  false
created:  2025-03-01 11:00:00
packages: jq ripgrep
used by:  build-box
`)
	var im api.Image
	decode(t, mustRun(t, newFake(), "image", "show", "debian-12", "-o", "json"), &im)
	if im.Name != "debian-12" || strings.Join(im.UsedBy, ",") != "web,db" {
		t.Fatalf("image = %+v", im)
	}
}

func TestPowerVerbsCallTheBackend(t *testing.T) {
	f := newFake()
	for _, args := range [][]string{{"start", "db"}, {"stop", "web"}, {"restart", "web", "--no-wait"}, {"kill", "-s", "term", "web"}, {"delete", "db", "build-box"}} {
		mustRun(t, f, append([]string{"vm"}, args...)...)
	}
	want := "start db|stop web|restart web|kill -TERM web|delete db|delete build-box"
	if got := strings.Join(f.calls, "|"); got != want {
		t.Fatalf("calls = %s, want %s", got, want)
	}
	if got := mustRun(t, f, "vm", "stop", "web"); got != "web stopped (running)\n" {
		t.Fatalf("stop output %q", got)
	}
}

func decode(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
}
