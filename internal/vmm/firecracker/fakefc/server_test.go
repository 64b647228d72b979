package fakefc

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/testenv"
)

// lockedBuffer is a console the guest's timers may write while the test
// reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type client struct {
	t   *testing.T
	h   *http.Client
	dir string
}

// startServer serves a fake with opts on a private socket; dir holds a
// kernel ("vmlinux") and a disk ("rootfs.ext4").
func startServer(t *testing.T, opts Options) (*Server, *client, *lockedBuffer) {
	t.Helper()
	dir, err := os.MkdirTemp("", "bgtfc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "api.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	console := &lockedBuffer{}
	opts.Console = console
	s := NewServer(opts)
	t.Cleanup(s.Close)
	go s.Serve(ln)
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}
	for f, data := range map[string][]byte{"vmlinux": TestKernel(), "rootfs.ext4": []byte("x")} {
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return s, &client{t: t, h: &http.Client{Transport: tr}, dir: dir}, console
}

// tapOrNone returns a real tap for a test that configures a network
// interface (the fake attaches to it as firecracker does), or "" where
// none can be created (not root, or -short): the test then configures no
// interface.
func tapOrNone(t *testing.T) string {
	t.Helper()
	if testing.Short() || os.Geteuid() != 0 {
		t.Log("no network interface: a tap needs root (and no -short)")
		return ""
	}
	return testenv.Tap(t, os.Geteuid(), os.Getegid())
}

// p returns the path of name in the client's directory.
func (c *client) p(name string) string { return filepath.Join(c.dir, name) }

// do returns the status and fault message.
func (c *client) do(method, path, body string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(method, "http://localhost"+path, strings.NewReader(body))
	resp, err := c.h.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var f struct {
		FaultMessage string `json:"fault_message"`
	}
	json.Unmarshal(b, &f)
	return resp.StatusCode, f.FaultMessage
}

func (c *client) mustPut(path, body string) { c.t.Helper(); c.must(http.MethodPut, path, body) }

func (c *client) must(method, path, body string) {
	c.t.Helper()
	if st, msg := c.do(method, path, body); st != http.StatusNoContent {
		c.t.Fatalf("%s %s %s: %d %s", method, path, body, st, msg)
	}
}

func (c *client) wantFault(path, body, contains string) {
	c.t.Helper()
	c.wantFaultMethod(http.MethodPut, path, body, contains)
}

func (c *client) wantFaultMethod(method, path, body, contains string) {
	c.t.Helper()
	st, msg := c.do(method, path, body)
	if st != http.StatusBadRequest || !strings.Contains(msg, contains) {
		c.t.Errorf("%s %s %s: got %d %q, want 400 containing %q", method, path, body, st, msg, contains)
	}
}

// boot configures a minimal microVM and starts it.
func (c *client) boot() {
	c.t.Helper()
	c.mustPut("/machine-config", `{"vcpu_count":2,"mem_size_mib":4}`)
	c.mustPut("/boot-source", `{"kernel_image_path":"`+c.p("vmlinux")+`","boot_args":"console=ttyS0 reboot=k panic=1"}`)
	c.mustPut("/drives/rootfs", `{"drive_id":"rootfs","path_on_host":"`+c.p("rootfs.ext4")+`","is_root_device":true,"is_read_only":false}`)
	c.mustPut("/actions", `{"action_type":"InstanceStart"}`)
}

func exitedWithin(s *Server, d time.Duration) bool {
	select {
	case <-s.Exited():
		return true
	case <-time.After(d):
		return false
	}
}

func TestRequestShapes(t *testing.T) {
	_, c, _ := startServer(t, Options{})
	root := c.p("rootfs.ext4")
	c.wantFault("/machine-config", `{"vcpu_count":1}`, "missing field `mem_size_mib`")
	c.wantFault("/machine-config", `{"vcpu_count":1,"mem_size_mib":128,"vcpus":2}`, "unknown field")
	c.wantFault("/machine-config", `{"vcpu_count":0,"mem_size_mib":128}`, "vCPU number is invalid")
	c.wantFault("/machine-config", ``, "Empty PUT request.")
	c.wantFault("/boot-source", `{"boot_args":"console=ttyS0"}`, "missing field `kernel_image_path`")
	c.wantFault("/boot-source", `{"kernel_image_path":"/nonexistent/vmlinux"}`, "kernel file cannot be opened: No such file or directory (os error 2)")
	c.wantFault("/drives/rootfs", `{"drive_id":"rootfs","path_on_host":"`+root+`","is_read_only":false}`, "missing field `is_root_device`")
	c.wantFault("/drives/rootfs", `{"drive_id":"other","path_on_host":"`+root+`","is_root_device":true,"is_read_only":false}`, "does not match")
	c.wantFault("/drives/rootfs", `{"drive_id":"rootfs","is_root_device":true}`, "path_on_host")
	c.wantFault("/network-interfaces/eth0", `{"iface_id":"eth0"}`, "missing field `host_dev_name`")
	c.wantFault("/network-interfaces/eth0", `{"iface_id":"eth0","host_dev_name":"tap0","guest_mac":"zz"}`, "MAC")
	c.wantFault("/metrics", `{}`, "missing field `metrics_path`")
	c.wantFault("/logger", `{"level":"loud"}`, "unknown variant `loud`")
	c.wantFault("/vsock", `{"guest_cid":3}`, "missing field `uds_path`")
	c.wantFault("/vsock", `{"guest_cid":2,"uds_path":"`+c.p("v.sock")+`"}`, "CID")
	c.wantFault("/actions", `{"action_type":"Reboot"}`, "unknown variant")
	c.wantFault("/actions", `{"action_type":"SendCtrlAltDel"}`, "before starting")
	c.wantFault("/actions", `{"action_type":"FlushMetrics"}`, "before starting")
	c.wantFault("/actions", `{"action_type":"InstanceStart"}`, "kernel configuration")
	c.wantFault("/nonsense", `{}`, "Invalid request method and/or path: PUT /nonsense.")
	c.wantFaultMethod(http.MethodGet, "/nonsense", ``, "Invalid request method and/or path")

	c.mustPut("/boot-source", `{"kernel_image_path":"`+c.p("vmlinux")+`","boot_args":"console=ttyS0"}`)
	c.wantFault("/actions", `{"action_type":"InstanceStart"}`, "root block device")
	c.mustPut("/drives/rootfs", `{"drive_id":"rootfs","path_on_host":"`+root+`","is_root_device":true,"is_read_only":false}`)
	c.wantFault("/drives/second", `{"drive_id":"second","path_on_host":"`+root+`","is_root_device":true,"is_read_only":true}`, "root block device already exists")
}

func TestResourceIDs(t *testing.T) {
	_, c, _ := startServer(t, Options{})
	body := func(id string) string {
		return `{"drive_id":"` + id + `","path_on_host":"` + c.p("rootfs.ext4") + `","is_root_device":false,"is_read_only":true}`
	}
	for _, bad := range []string{"work-disk", "work.disk", "w%20d"} {
		c.wantFault("/drives/"+bad, body(bad), "can only contain alphanumeric characters and underscores")
		c.wantFault("/network-interfaces/"+bad, `{"iface_id":"`+bad+`","host_dev_name":"tap0"}`, "can only contain alphanumeric")
	}
	c.wantFault("/drives/", body(""), "The ID cannot be empty.")
	for _, good := range []string{"work_disk", "Work2", "rootfs"} {
		c.mustPut("/drives/"+good, body(good))
	}
	if tap := tapOrNone(t); tap != "" {
		c.mustPut("/network-interfaces/eth_0", `{"iface_id":"eth_0","host_dev_name":"`+tap+`"}`)
	}
}

func TestKernelCommandLineLimit(t *testing.T) {
	_, c, _ := startServer(t, Options{})
	kernel := c.p("vmlinux")
	long := strings.Repeat("a", MaxCmdline-1)
	c.wantFault("/boot-source", `{"kernel_image_path":"`+kernel+`","boot_args":"`+long+`a"}`, "command line too large")
	c.wantFault("/boot-source", `{"kernel_image_path":"`+kernel+`","boot_args":"quiet\tsplash"}`, "non-printable")
	// 2047 bytes fit the API, but not with what InstanceStart appends.
	c.mustPut("/boot-source", `{"kernel_image_path":"`+kernel+`","boot_args":"`+long+`"}`)
	c.mustPut("/drives/rootfs", `{"drive_id":"rootfs","path_on_host":"`+c.p("rootfs.ext4")+`","is_root_device":true,"is_read_only":false}`)
	c.wantFault("/actions", `{"action_type":"InstanceStart"}`, "command line too large")
}

func TestLifecycleOrdering(t *testing.T) {
	s, c, console := startServer(t, Options{})
	c.mustPut("/logger", `{"log_path":"`+c.p("fc.log")+`","level":"Warning","show_level":true}`)
	c.mustPut("/metrics", `{"metrics_path":"`+c.p("fc.metrics")+`"}`)
	c.mustPut("/machine-config", `{"vcpu_count":2,"mem_size_mib":256}`)
	c.mustPut("/boot-source", `{"kernel_image_path":"`+c.p("vmlinux")+`","boot_args":"console=ttyS0 reboot=k"}`)
	c.mustPut("/drives/rootfs", `{"drive_id":"rootfs","path_on_host":"`+c.p("rootfs.ext4")+`","is_root_device":true,"is_read_only":false}`)
	if tap := tapOrNone(t); tap != "" {
		c.mustPut("/network-interfaces/eth0", `{"iface_id":"eth0","host_dev_name":"`+tap+`","guest_mac":"06:00:ac:10:00:02"}`)
	}
	c.mustPut("/vsock", `{"guest_cid":3,"uds_path":"`+c.p("v.sock")+`"}`)
	c.mustPut("/actions", `{"action_type":"InstanceStart"}`)
	if s.State() != StateRunning || !strings.Contains(console.String(), "login:") {
		t.Fatalf("state %s; console %q", s.State(), console.String())
	}
	// Firecracker appends pci=off, root= and the devices itself.
	want := "Command line: console=ttyS0 reboot=k pci=off root=/dev/vda rw virtio_mmio.device="
	if !strings.Contains(console.String(), want) {
		t.Errorf("console lacks %q:\n%s", want, console.String())
	}
	for _, path := range []string{"/logger", "/metrics", "/machine-config", "/boot-source", "/vsock"} {
		c.wantFault(path, `{}`, "not supported after starting the microVM")
	}
	c.wantFault("/drives/rootfs", `{}`, "hotplug")
	c.wantFault("/actions", `{"action_type":"InstanceStart"}`, "after starting")
	c.mustPut("/actions", `{"action_type":"FlushMetrics"}`)
}

// TestFilesFirecrackerCreates: log, metrics and vsock paths are created by
// firecracker, so the fake must not demand them; an existing vsock socket
// path is refused as bind(2) refuses it.
func TestFilesFirecrackerCreates(t *testing.T) {
	_, c, _ := startServer(t, Options{})
	c.mustPut("/logger", `{"log_path":"`+c.p("new.log")+`"}`)
	c.mustPut("/metrics", `{"metrics_path":"`+c.p("new.metrics")+`"}`)
	c.mustPut("/vsock", `{"guest_cid":3,"uds_path":"`+c.p("new.vsock")+`"}`)
	for _, f := range []string{"new.log", "new.metrics", "new.vsock"} {
		if _, err := os.Stat(c.p(f)); err != nil {
			t.Errorf("%s not created: %v", f, err)
		}
	}
	c.wantFault("/logger", `{"log_path":"`+c.p("nodir/x.log")+`"}`, "Failed to open target file: No such file or directory")

	_, c2, _ := startServer(t, Options{})
	os.WriteFile(c2.p("stale.vsock"), nil, 0o600)
	c2.wantFault("/vsock", `{"guest_cid":3,"uds_path":"`+c2.p("stale.vsock")+`"}`, "Address already in use")
}

func TestMetricsOnceLoggerRepeatable(t *testing.T) {
	_, c, _ := startServer(t, Options{})
	c.mustPut("/metrics", `{"metrics_path":"`+c.p("a.metrics")+`"}`)
	c.wantFault("/metrics", `{"metrics_path":"`+c.p("b.metrics")+`"}`, "Reinitialization of metrics not allowed.")
	// Firecracker v1.16 lets the logger be updated again before boot.
	c.mustPut("/logger", `{"log_path":"`+c.p("a.log")+`"}`)
	c.mustPut("/logger", `{"level":"Debug"}`)

	_, c2, _ := startServer(t, Options{MetricsConfigured: true})
	c2.wantFault("/metrics", `{"metrics_path":"`+c2.p("a.metrics")+`"}`, "Reinitialization of metrics not allowed.")
}
