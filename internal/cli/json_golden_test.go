package cli

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/bundle"
	"github.com/bangerdev/banger/internal/config"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/json/*.json from the current output")

// fullVM is a VM with every field set, so `--output json` shows every
// field name, including the omitempty ones.
func fullVM() api.VM {
	v := fixtureVMs()[0]
	v.LastError = "previous start failed"
	v.Files.Initrd = "/r/initrd.img"
	v.SavedState = &api.SavedState{Dir: "/s/vms/web/state", Driver: "qemu", VMMVersion: "8.2.2", VCPUs: 2, MemoryMiB: 1024,
		DrivePaths: []string{"/s/vms/web/overlay.qcow2", "/s/vms/web/work.ext4"}, Tap: "tap-web", Size: 1 << 30,
		SavedAt: epoch.Add(-time.Hour)}
	v.BootTimings = &api.BootTimings{HostMS: 120, GuestMS: 900, ReadyMS: 40, TotalMS: 1060, HandshakeMS: 12,
		Signal: "console", HostSteps: map[string]int64{"tap": 3, "vmm_start": 60}, VMMStartMS: 60}
	return v
}

// statsFixtures are a running VM with host and guest figures and one whose
// guest did not answer.
func statsFixtures() map[string]api.VMStats {
	return map[string]api.VMStats{
		"web": {Name: "web", State: api.StateRunning,
			Host: api.HostStats{CPUSeconds: 12.5, CPUPercent: 3.25, RSSBytes: 300 << 20, WorkDiskSize: 8 << 30, WorkDiskAlloc: 1536 << 20,
				OverlayAlloc: 64 << 20, StateAlloc: 1 << 30, DiskReadBytes: 10 << 20, DiskWriteBytes: 5 << 20, NetRxBytes: 2048, NetTxBytes: 1 << 20},
			Guest: &api.GuestStats{UptimeSeconds: 5400, Load1: 0.5, Load5: 0.25, Load15: 0.125, MemTotal: 1 << 30, MemAvailable: 768 << 20,
				RootSize: 2 << 30, RootUsed: 1 << 30, WorkSize: 8 << 30, WorkUsed: 512 << 20}},
		"db": {Name: "db", State: api.StateRunning, GuestError: "ssh: connection refused"},
	}
}

// goldenBundle writes a small runtime bundle (metadata, kernel, rootfs)
// for `bundle show`.
func goldenBundle(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"bundle.json": `{"version":1,"kernel":"bzImage","rootfs":"rootfs.ext4"}`,
		"bzImage":     "kernel bytes",
		"rootfs.ext4": "rootfs bytes",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// jsonBackend is the output tests' fake with every read and action
// answering with full records.
type jsonBackend struct{ *fakeBackend }

func (j jsonBackend) Status(context.Context) (*api.DaemonStatus, error) {
	return &api.DaemonStatus{PID: 77, Version: "v1.2.3", APIVersion: "1", StartedAt: epoch.Add(-time.Hour), Uptime: "1h",
		Socket: "/run/banger/bangerd.sock", StateDir: "/s", RuntimeDir: "/r", VMM: "qemu", VMMReason: "no /dev/kvm",
		VMCounts: map[string]int{"running": 2, "stopped": 1}, Goroutines: 12}, nil
}

func (j jsonBackend) Doctor(context.Context) ([]api.DoctorCheck, error) {
	return []api.DoctorCheck{{Area: "vmm", Name: "qemu", OK: true, Detail: "qemu-system-x86_64 8.2.2"}}, nil
}

func (j jsonBackend) GetVM(_ context.Context, name string) (*api.VM, error) {
	v := fullVM()
	return &v, nil
}

func (j jsonBackend) SuspendVM(context.Context, string, api.SuspendRequest, func(api.Event)) (*api.VM, error) {
	v := fullVM()
	v.State = api.StateSuspended
	return &v, nil
}

func (j jsonBackend) CloneVM(_ context.Context, _ string, req api.CloneRequest, _ func(api.Event)) (*api.VM, error) {
	v := fullVM()
	v.Name = "web-2"
	return &v, nil
}

func (j jsonBackend) snapshot() api.Snapshot {
	return api.Snapshot{VM: "web", Name: "before-upgrade", Memory: true, Method: "reflink", Allocated: 4096,
		Dir: "/s/vms/web/snapshots/before-upgrade", CreatedAt: epoch.Add(-time.Minute)}
}

func (j jsonBackend) ListSnapshots(context.Context, string) ([]api.Snapshot, error) {
	return []api.Snapshot{j.snapshot()}, nil
}

func (j jsonBackend) CreateSnapshot(context.Context, string, api.SnapshotRequest, func(api.Event)) (*api.Snapshot, error) {
	sn := j.snapshot()
	return &sn, nil
}

func (j jsonBackend) RestoreSnapshot(context.Context, string, string, api.RestoreRequest, func(api.Event)) (*api.VM, error) {
	v := fullVM()
	return &v, nil
}

// jsonCommands are the commands with `--output json`, each with the golden
// file of its output under testdata/json.
var jsonCommands = map[string][]string{
	"vm-list":             {"vm", "list"},
	"vm-show":             {"vm", "show", "web"},
	"vm-stats":            {"vm", "stats", "web"},
	"vm-stats-no-guest":   {"vm", "stats", "db"},
	"vm-create":           {"vm", "create", "--name", "new", "--no-wait"},
	"vm-start":            {"vm", "start", "db"},
	"vm-stop":             {"vm", "stop", "web"},
	"vm-set":              {"vm", "set", "db", "--vcpu", "2"},
	"vm-suspend":          {"vm", "suspend", "web"},
	"vm-clone":            {"vm", "clone", "web", "web-2", "--no-wait"},
	"vm-snapshot-create":  {"vm", "snapshot", "create", "web", "before-upgrade"},
	"vm-snapshot-list":    {"vm", "snapshot", "list", "web"},
	"vm-snapshot-restore": {"vm", "snapshot", "restore", "web", "before-upgrade"},
	"image-list":          {"image", "list"},
	"image-show":          {"image", "show", "alpine-dev"},
	"image-save":          {"image", "save", "web", "--name", "saved"},
	"daemon-status":       {"daemon", "status"},
	"doctor":              {"doctor"},
	"config-show":         {"config", "show"},
	"version":             {"version"},
	"bundle-show":         {"bundle", "show", "--dir", "$BUNDLE"},
}

// TestJSONOutputGolden: the JSON of every command above is byte for byte
// its golden file (field names are an interface scripts rely on; a renamed
// or dropped field fails here). Run with -update to rewrite the files after
// a deliberate change, and review the diff.
func TestJSONOutputGolden(t *testing.T) {
	names := make([]string, 0, len(jsonCommands))
	for n := range jsonCommands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		args := jsonCommands[name]
		t.Run(name, func(t *testing.T) {
			f := newFake()
			f.stats = statsFixtures()
			home := t.TempDir()
			getenv := func(k string) string {
				if k == "HOME" {
					return home
				}
				return ""
			}
			bundleDir := goldenBundle(t)
			args = append(append([]string(nil), args...), "-o", "json")
			for i, a := range args {
				args[i] = strings.ReplaceAll(a, "$BUNDLE", bundleDir)
			}
			out, stderr, err := runWithEnv(t, jsonBackend{f}, getenv, args...)
			out = strings.ReplaceAll(strings.ReplaceAll(out, bundleDir, "$BUNDLE"), home, "$HOME")
			if err != nil {
				t.Fatalf("banger %s -o json: %v (stderr %q)", strings.Join(args, " "), err, stderr)
			}
			var anyJSON any
			if err := json.Unmarshal([]byte(out), &anyJSON); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
			path := filepath.Join("testdata", "json", name+".json")
			if *updateGolden {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v: run go test ./internal/cli -run TestJSONOutputGolden -update", err)
			}
			if out != string(want) {
				t.Errorf("banger %s -o json differs from %s:\ngot:\n%s\nwant:\n%s", strings.Join(args, " "), path, out, want)
			}
		})
	}
}

// TestJSONGoldenShowsEveryField: the fixtures behind the golden files set
// every field of the API types the commands print, so each JSON field name
// appears in some golden file.
func TestJSONGoldenShowsEveryField(t *testing.T) {
	var all strings.Builder
	files, _ := filepath.Glob(filepath.Join("testdata", "json", "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	for _, v := range []any{api.VM{}, api.VMFiles{}, api.SavedState{}, api.BootTimings{}, api.Snapshot{}, api.VMStats{},
		api.HostStats{}, api.GuestStats{}, api.Image{}, api.DaemonStatus{}, api.DoctorCheck{}, config.Row{}, bundle.FileInfo{}} {
		rt := reflect.TypeOf(v)
		for i := 0; i < rt.NumField(); i++ {
			tag := strings.Split(rt.Field(i).Tag.Get("json"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			if !strings.Contains(all.String(), `"`+tag+`":`) {
				t.Errorf("%s.%s (json %q) appears in no golden file: set it in the fixtures", rt.Name(), rt.Field(i).Name, tag)
			}
		}
	}
}
