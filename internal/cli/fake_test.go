package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/api/client"
	"github.com/bangerdev/banger/internal/backend"
)

// epoch is the fixed "now" of every output test.
var epoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// TestMain pins the local time zone so shown timestamps are stable.
func TestMain(m *testing.M) {
	time.Local = time.UTC
	os.Exit(m.Run())
}

// fakeBackend is an in-memory daemon for output tests: it answers reads
// from its maps, records mutating calls, and refuses what it does not hold
// the way bangerd does (a 404 with the daemon's message).
type fakeBackend struct {
	vms    map[string]api.VM
	images map[string]api.Image
	stats  map[string]api.VMStats
	calls  []string
}

var _ backend.Backend = (*fakeBackend)(nil)

func newFake() *fakeBackend {
	f := &fakeBackend{vms: map[string]api.VM{}, images: map[string]api.Image{}, stats: map[string]api.VMStats{}}
	for _, v := range fixtureVMs() {
		f.vms[v.Name] = v
	}
	for _, im := range fixtureImages() {
		f.images[im.Name] = im
	}
	return f
}

// fixtureVMs are two running VMs and a stopped one, in list order.
func fixtureVMs() []api.VM {
	return []api.VM{
		{Name: "web", State: api.StateRunning, Image: "debian-12", IP: "172.16.0.2", MAC: "52:54:00:12:34:56", Tap: "tap-web",
			VCPUs: 2, MemoryMiB: 1024, DiskSize: 8 << 30, NAT: true, Driver: "qemu", Accel: "tcg", PID: 4242, DNSName: "web.vm",
			CreatedAt: epoch.Add(-3 * 24 * time.Hour), StartedAt: epoch.Add(-90 * time.Minute),
			Files: api.VMFiles{Dir: "/s/vms/web", Overlay: "/s/vms/web/overlay.qcow2", OverlayKind: "qcow2",
				WorkDisk: "/s/vms/web/work.ext4", ConsoleLog: "/s/vms/web/console.log", ControlSocket: "/s/vms/web/qmp.sock",
				Kernel: "/r/vmlinuz", BaseImage: "/s/images/debian-12.ext4"}},
		{Name: "db", State: api.StateStopped, Image: "debian-12", VCPUs: 1, MemoryMiB: 512, DiskSize: 4 << 30,
			Driver: "qemu", CreatedAt: epoch.Add(-5 * time.Hour), LastError: "guest did not answer SSH",
			Files: api.VMFiles{Dir: "/s/vms/db", Overlay: "/s/vms/db/overlay.img", OverlayKind: "copy",
				WorkDisk: "/s/vms/db/work.ext4", ConsoleLog: "/s/vms/db/console.log",
				Kernel: "/r/vmlinuz", Initrd: "/r/initrd.img", BaseImage: "/s/images/debian-12.ext4"}},
		{Name: "build-box", State: api.StateRunning, Image: "alpine-dev", IP: "172.16.0.4", VCPUs: 4, MemoryMiB: 4096,
			DiskSize: 20 << 30, Driver: "qemu", CreatedAt: epoch.Add(-10 * time.Minute)},
	}
}

func fixtureImages() []api.Image {
	return []api.Image{
		{Name: "debian-12", Path: "/s/images/debian-12.ext4", Kernel: "/r/vmlinuz", Size: 2 << 30, Builtin: true,
			CreatedAt: epoch.Add(-72 * time.Hour), UsedBy: []string{"web", "db"}},
		{Name: "alpine-dev", Path: "/s/images/alpine-dev.ext4", Kernel: "/r/vmlinuz", Initrd: "/r/initrd.img",
			Modules: "/r/modules", Packages: []string{"jq", "ripgrep"}, Size: 1536 << 20, CreatedAt: epoch.Add(-time.Hour),
			UsedBy: []string{"build-box"}},
	}
}

func notFound(kind, name string) error {
	return &client.APIError{Status: http.StatusNotFound,
		Message: fmt.Sprintf("no %s named %q; see 'banger %s list'", kind, name, strings.ToLower(kind))}
}

func (f *fakeBackend) vm(name string) (*api.VM, error) {
	v, ok := f.vms[name]
	if !ok {
		return nil, notFound("VM", name)
	}
	return &v, nil
}

func (f *fakeBackend) Status(context.Context) (*api.DaemonStatus, error) {
	return &api.DaemonStatus{PID: 77, VMM: "qemu"}, nil
}
func (f *fakeBackend) Ping(ctx context.Context) (*api.DaemonStatus, error) { return f.Status(ctx) }
func (f *fakeBackend) Shutdown(context.Context) error                      { return errors.New("fake: no shutdown") }
func (f *fakeBackend) Doctor(context.Context) ([]api.DoctorCheck, error)   { return nil, nil }

func (f *fakeBackend) ListVMs(context.Context) ([]api.VM, error) {
	var out []api.VM
	for _, v := range fixtureVMs() {
		if cur, ok := f.vms[v.Name]; ok {
			out = append(out, cur)
		}
	}
	return out, nil
}

func (f *fakeBackend) GetVM(_ context.Context, name string) (*api.VM, error) { return f.vm(name) }

func (f *fakeBackend) Stats(_ context.Context, name string) (*api.VMStats, error) {
	st, ok := f.stats[name]
	if !ok {
		return nil, notFound("VM", name)
	}
	return &st, nil
}

func (f *fakeBackend) CreateVM(_ context.Context, req api.CreateVMRequest, _ func(api.Event)) (*api.VM, error) {
	f.calls = append(f.calls, fmt.Sprintf("create %+v", req))
	return &api.VM{Name: req.Name, State: api.StateRunning}, nil
}

func (f *fakeBackend) act(verb, name string) (*api.VM, error) {
	f.calls = append(f.calls, verb+" "+name)
	return f.vm(name)
}

func (f *fakeBackend) StartVM(_ context.Context, name string, _ api.StartRequest, _ func(api.Event)) (*api.VM, error) {
	return f.act("start", name)
}
func (f *fakeBackend) StopVM(_ context.Context, name string, _ func(api.Event)) (*api.VM, error) {
	return f.act("stop", name)
}
func (f *fakeBackend) RestartVM(_ context.Context, name string, _ api.StartRequest, _ func(api.Event)) (*api.VM, error) {
	return f.act("restart", name)
}
func (f *fakeBackend) KillVM(_ context.Context, name, sig string) (*api.VM, error) {
	return f.act("kill -"+sig, name)
}
func (f *fakeBackend) SetVM(_ context.Context, name string, _ api.SetVMRequest) (*api.VM, error) {
	return f.act("set", name)
}
func (f *fakeBackend) DeleteVM(_ context.Context, name string, _ bool) error {
	_, err := f.act("delete", name)
	return err
}
func (f *fakeBackend) SSHTarget(_ context.Context, name string) (*api.SSHTarget, error) {
	return nil, errors.New("fake: no ssh")
}
func (f *fakeBackend) Logs(_ context.Context, name string, _ bool) (io.ReadCloser, error) {
	if _, err := f.vm(name); err != nil {
		return nil, err
	}
	return io.NopCloser(strings.NewReader("console of " + name + "\n")), nil
}

func (f *fakeBackend) ListImages(context.Context) ([]api.Image, error) {
	var out []api.Image
	for _, im := range f.images {
		out = append(out, im)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

func (f *fakeBackend) GetImage(_ context.Context, name string) (*api.Image, error) {
	im, ok := f.images[name]
	if !ok {
		return nil, notFound("image", name)
	}
	return &im, nil
}
func (f *fakeBackend) BuildImage(_ context.Context, req api.BuildImageRequest, _ func(api.Event)) (*api.Image, error) {
	return nil, errors.New("fake: no image build")
}
func (f *fakeBackend) SaveImage(_ context.Context, req api.SaveImageRequest, _ func(api.Event)) (*api.Image, error) {
	f.calls = append(f.calls, fmt.Sprintf("save image %s from %s stop=%v", req.Name, req.VM, req.Stop))
	if _, err := f.vm(req.VM); err != nil {
		return nil, err
	}
	im := api.Image{Name: req.Name, Size: 1 << 30}
	return &im, nil
}
func (f *fakeBackend) DeleteImage(_ context.Context, name string) error {
	f.calls = append(f.calls, "delete image "+name)
	_, err := f.GetImage(context.Background(), name)
	return err
}

// errNotFaked is what the fake answers for calls no CLI test makes.
var errNotFaked = errors.New("not modelled by the fake backend")

func (f *fakeBackend) SuspendVM(_ context.Context, name string, _ api.SuspendRequest, _ func(api.Event)) (*api.VM, error) {
	f.calls = append(f.calls, "suspend "+name)
	return nil, errNotFaked
}

func (f *fakeBackend) CloneVM(_ context.Context, src string, _ api.CloneRequest, _ func(api.Event)) (*api.VM, error) {
	f.calls = append(f.calls, "clone "+src)
	return nil, errNotFaked
}

func (f *fakeBackend) ListSnapshots(context.Context, string) ([]api.Snapshot, error) {
	return nil, errNotFaked
}

func (f *fakeBackend) CreateSnapshot(context.Context, string, api.SnapshotRequest, func(api.Event)) (*api.Snapshot, error) {
	return nil, errNotFaked
}

func (f *fakeBackend) RestoreSnapshot(context.Context, string, string, api.RestoreRequest, func(api.Event)) (*api.VM, error) {
	return nil, errNotFaked
}

func (f *fakeBackend) DeleteSnapshot(context.Context, string, string) error { return errNotFaked }

// run executes banger with args against be through the whole command
// tree, returning stdout, stderr and the error Main would print.
func run(t *testing.T, be backend.Backend, args ...string) (string, string, error) {
	t.Helper()
	return runWithEnv(t, be, func(string) string { return "" }, args...)
}

// runWithEnv is run with the process environment getenv.
func runWithEnv(t *testing.T, be backend.Backend, getenv func(string) string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &Env{Out: &out, Err: &errb, In: strings.NewReader(""), Getenv: getenv,
		Output: "text", Now: func() time.Time { return epoch }}
	e.Connect = func(context.Context) (backend.Backend, error) {
		if be == nil {
			t.Fatal("test must not connect to a daemon")
		}
		return be, nil
	}
	e.Dial = func(string) backend.Backend {
		if be == nil {
			t.Fatal("test must not dial a daemon")
		}
		return be
	}
	root := NewRootCmd(e)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), errb.String(), err
}
