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
	"testing"
)

type client struct {
	t *testing.T
	h *http.Client
}

func startServer(t *testing.T) (*Server, *client, string, *bytes.Buffer) {
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
	var console bytes.Buffer
	s := NewServer(&console)
	go s.Serve(ln)
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}
	for _, f := range []string{"vmlinux", "rootfs.ext4", "fc.log", "fc.metrics"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return s, &client{t: t, h: &http.Client{Transport: tr}}, dir, &console
}

// put returns the status and fault message.
func (c *client) put(path, body string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPut, "http://localhost"+path, strings.NewReader(body))
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

func (c *client) mustPut(path, body string) {
	c.t.Helper()
	if st, msg := c.put(path, body); st != http.StatusNoContent {
		c.t.Fatalf("PUT %s %s: %d %s", path, body, st, msg)
	}
}

func (c *client) wantFault(path, body, contains string) {
	c.t.Helper()
	st, msg := c.put(path, body)
	if st != http.StatusBadRequest || !strings.Contains(msg, contains) {
		c.t.Errorf("PUT %s %s: got %d %q, want 400 containing %q", path, body, st, msg, contains)
	}
}

func TestRequestShapes(t *testing.T) {
	_, c, dir, _ := startServer(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	c.wantFault("/machine-config", `{"vcpu_count":1}`, "missing field `mem_size_mib`")
	c.wantFault("/machine-config", `{"vcpu_count":1,"mem_size_mib":128,"vcpus":2}`, "unknown field")
	c.wantFault("/machine-config", `{"vcpu_count":0,"mem_size_mib":128}`, "vCPU number is invalid")
	c.wantFault("/boot-source", `{"boot_args":"console=ttyS0"}`, "missing field `kernel_image_path`")
	c.wantFault("/boot-source", `{"kernel_image_path":"/nonexistent/vmlinux"}`, "kernel_image_path")
	c.wantFault("/drives/rootfs", `{"drive_id":"rootfs","path_on_host":"`+p("rootfs.ext4")+`","is_read_only":false}`, "missing field `is_root_device`")
	c.wantFault("/drives/rootfs", `{"drive_id":"other","path_on_host":"`+p("rootfs.ext4")+`","is_root_device":true,"is_read_only":false}`, "does not match")
	c.wantFault("/drives/rootfs", `{"drive_id":"rootfs","is_root_device":true}`, "path_on_host")
	c.wantFault("/network-interfaces/eth0", `{"iface_id":"eth0"}`, "missing field `host_dev_name`")
	c.wantFault("/network-interfaces/eth0", `{"iface_id":"eth0","host_dev_name":"tap0","guest_mac":"zz"}`, "MAC")
	c.wantFault("/metrics", `{}`, "missing field `metrics_path`")
	c.wantFault("/logger", `{"log_path":"`+p("fc.log")+`","level":"loud"}`, "log level")
	c.wantFault("/vsock", `{"guest_cid":3}`, "missing field `uds_path`")
	c.wantFault("/vsock", `{"guest_cid":2,"uds_path":"/x"}`, "CID")
	c.wantFault("/actions", `{"action_type":"Reboot"}`, "unknown variant")
	c.wantFault("/actions", `{"action_type":"SendCtrlAltDel"}`, "before starting")
	c.wantFault("/actions", `{"action_type":"InstanceStart"}`, "kernel configuration")
	c.wantFault("/nonsense", `{}`, "Invalid request")

	c.mustPut("/boot-source", `{"kernel_image_path":"`+p("vmlinux")+`","boot_args":"console=ttyS0"}`)
	c.wantFault("/actions", `{"action_type":"InstanceStart"}`, "root block device")
	c.mustPut("/drives/rootfs", `{"drive_id":"rootfs","path_on_host":"`+p("rootfs.ext4")+`","is_root_device":true,"is_read_only":false}`)
	c.wantFault("/drives/second", `{"drive_id":"second","path_on_host":"`+p("rootfs.ext4")+`","is_root_device":true,"is_read_only":true}`, "root block device already exists")
}

func TestLifecycle(t *testing.T) {
	s, c, dir, console := startServer(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	c.mustPut("/logger", `{"log_path":"`+p("fc.log")+`","level":"Warning","show_level":true}`)
	c.mustPut("/metrics", `{"metrics_path":"`+p("fc.metrics")+`"}`)
	c.mustPut("/machine-config", `{"vcpu_count":2,"mem_size_mib":256}`)
	c.mustPut("/boot-source", `{"kernel_image_path":"`+p("vmlinux")+`","boot_args":"console=ttyS0 reboot=k"}`)
	c.mustPut("/drives/rootfs", `{"drive_id":"rootfs","path_on_host":"`+p("rootfs.ext4")+`","is_root_device":true,"is_read_only":false}`)
	c.mustPut("/network-interfaces/eth0", `{"iface_id":"eth0","host_dev_name":"tap0","guest_mac":"06:00:ac:10:00:02"}`)
	c.mustPut("/vsock", `{"guest_cid":3,"uds_path":"`+p("v.sock")+`"}`)
	c.mustPut("/actions", `{"action_type":"InstanceStart"}`)
	if !s.Started() || !strings.Contains(console.String(), "login:") {
		t.Fatalf("not started; console %q", console.String())
	}
	for _, path := range []string{"/logger", "/metrics", "/machine-config", "/boot-source", "/drives/rootfs", "/network-interfaces/eth0", "/vsock"} {
		c.wantFault(path, `{}`, "not supported after starting the microVM")
	}
	c.wantFault("/actions", `{"action_type":"InstanceStart"}`, "after starting")
	select {
	case <-s.CtrlAltDel():
		t.Fatal("ctrl-alt-del before it was sent")
	default:
	}
	c.mustPut("/actions", `{"action_type":"SendCtrlAltDel"}`)
	<-s.CtrlAltDel()
	c.mustPut("/actions", `{"action_type":"SendCtrlAltDel"}`) // idempotent
}
