// Package fakefc is a stand-in for the firecracker binary in tests. It
// serves the subset of firecracker's REST API banger uses on a unix socket
// and enforces the request shapes of firecracker's OpenAPI description:
// required fields, no unknown fields, pre-boot-only calls refused after
// InstanceStart, InstanceStart refused without a boot source or root drive,
// SendCtrlAltDel refused before start.
package fakefc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
)

// Server is the fake API. Create it with NewServer.
type Server struct {
	console io.Writer

	mu         sync.Mutex
	started    bool
	boot       *bootSource
	machine    *machineConfig
	drives     map[string]drive
	driveOrder []string
	ifaces     map[string]networkInterface
	vsock      *vsock
	requests   []string
	ctrlAltDel chan struct{}
	once       sync.Once
}

// NewServer returns a fake whose "guest" writes its console to console.
func NewServer(console io.Writer) *Server {
	return &Server{
		console:    console,
		drives:     map[string]drive{},
		ifaces:     map[string]networkInterface{},
		ctrlAltDel: make(chan struct{}),
	}
}

// CtrlAltDel is closed when the started guest received SendCtrlAltDel.
func (s *Server) CtrlAltDel() <-chan struct{} { return s.ctrlAltDel }

// Requests returns "METHOD /path" of every request so far.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Started reports whether InstanceStart succeeded.
func (s *Server) Started() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// Serve answers API requests on ln until it is closed.
func (s *Server) Serve(ln net.Listener) error {
	return (&http.Server{Handler: s}).Serve(ln)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	status, msg := s.route(r)
	switch {
	case status == http.StatusOK:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, msg)
	case status/100 == 2:
		w.WriteHeader(status)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		b, _ := json.Marshal(map[string]string{"fault_message": msg})
		w.Write(b)
	}
}

const noContent = http.StatusNoContent

func (s *Server) route(r *http.Request) (int, string) {
	path := r.URL.Path
	if r.Method == http.MethodGet && path == "/" {
		state := "Not started"
		if s.started {
			state = "Running"
		}
		b, _ := json.Marshal(map[string]string{"app_name": "Firecracker", "id": "anonymous-instance", "state": state, "vmm_version": "1.7.0-fake"})
		return http.StatusOK, string(b)
	}
	if r.Method != http.MethodPut {
		return http.StatusBadRequest, fmt.Sprintf("Invalid request method and/or path: %s %s.", r.Method, path)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return http.StatusBadRequest, err.Error()
	}
	switch {
	case path == "/actions":
		return s.putAction(body)
	case path == "/logger", path == "/metrics", path == "/machine-config", path == "/boot-source", path == "/vsock",
		strings.HasPrefix(path, "/drives/"), strings.HasPrefix(path, "/network-interfaces/"):
		if s.started {
			return http.StatusBadRequest, faultPostBoot
		}
	default:
		return http.StatusBadRequest, fmt.Sprintf("Invalid request method and/or path: %s %s.", r.Method, path)
	}
	switch {
	case path == "/logger":
		var v logger
		if e := decode(body, &v); e != "" {
			return http.StatusBadRequest, e
		}
		if v.LogPath != nil {
			if e := mustExist("log_path", *v.LogPath); e != "" {
				return http.StatusBadRequest, e
			}
		}
		if v.Level != nil && !oneOf(strings.ToLower(*v.Level), "error", "warning", "info", "debug", "trace", "off") {
			return http.StatusBadRequest, "Invalid log level: " + *v.Level
		}
	case path == "/metrics":
		var v metrics
		if e := decode(body, &v); e != "" {
			return http.StatusBadRequest, e
		}
		if v.MetricsPath == nil {
			return http.StatusBadRequest, missing("metrics_path")
		}
		if e := mustExist("metrics_path", *v.MetricsPath); e != "" {
			return http.StatusBadRequest, e
		}
	case path == "/machine-config":
		var v machineConfig
		if e := decode(body, &v); e != "" {
			return http.StatusBadRequest, e
		}
		switch {
		case v.VCPUCount == nil:
			return http.StatusBadRequest, missing("vcpu_count")
		case v.MemSizeMiB == nil:
			return http.StatusBadRequest, missing("mem_size_mib")
		case *v.VCPUCount < 1 || *v.VCPUCount > 32:
			return http.StatusBadRequest, "The vCPU number is invalid! The vCPU number can only be 1 or an even number when SMT is enabled."
		case *v.MemSizeMiB < 1:
			return http.StatusBadRequest, "The memory size (MiB) is invalid."
		}
		s.machine = &v
	case path == "/boot-source":
		var v bootSource
		if e := decode(body, &v); e != "" {
			return http.StatusBadRequest, e
		}
		if v.KernelImagePath == nil {
			return http.StatusBadRequest, missing("kernel_image_path")
		}
		if e := mustExist("kernel_image_path", *v.KernelImagePath); e != "" {
			return http.StatusBadRequest, e
		}
		if v.InitrdPath != nil {
			if e := mustExist("initrd_path", *v.InitrdPath); e != "" {
				return http.StatusBadRequest, e
			}
		}
		s.boot = &v
	case strings.HasPrefix(path, "/drives/"):
		return s.putDrive(strings.TrimPrefix(path, "/drives/"), body)
	case strings.HasPrefix(path, "/network-interfaces/"):
		return s.putIface(strings.TrimPrefix(path, "/network-interfaces/"), body)
	case path == "/vsock":
		var v vsock
		if e := decode(body, &v); e != "" {
			return http.StatusBadRequest, e
		}
		switch {
		case v.GuestCID == nil:
			return http.StatusBadRequest, missing("guest_cid")
		case v.UDSPath == nil:
			return http.StatusBadRequest, missing("uds_path")
		case *v.GuestCID < 3:
			return http.StatusBadRequest, fmt.Sprintf("Invalid guest CID: %d", *v.GuestCID)
		}
		s.vsock = &v
	}
	return noContent, ""
}

func (s *Server) putDrive(id string, body []byte) (int, string) {
	var v drive
	if e := decode(body, &v); e != "" {
		return http.StatusBadRequest, e
	}
	switch {
	case v.DriveID == nil:
		return http.StatusBadRequest, missing("drive_id")
	case v.IsRootDevice == nil:
		return http.StatusBadRequest, missing("is_root_device")
	case *v.DriveID != id:
		return http.StatusBadRequest, "The id from the path does not match the id from the body!"
	case v.PathOnHost == nil || v.IsReadOnly == nil:
		return http.StatusBadRequest, "Unable to create the block device: path_on_host and is_read_only are required for a virtio block device"
	}
	if e := mustExist("path_on_host", *v.PathOnHost); e != "" {
		return http.StatusBadRequest, e
	}
	if *v.IsRootDevice {
		for _, other := range s.drives {
			if *other.IsRootDevice && *other.DriveID != id {
				return http.StatusBadRequest, "A root block device already exists!"
			}
		}
	}
	if _, ok := s.drives[id]; !ok {
		s.driveOrder = append(s.driveOrder, id)
	}
	s.drives[id] = v
	return noContent, ""
}

func (s *Server) putIface(id string, body []byte) (int, string) {
	var v networkInterface
	if e := decode(body, &v); e != "" {
		return http.StatusBadRequest, e
	}
	switch {
	case v.IfaceID == nil:
		return http.StatusBadRequest, missing("iface_id")
	case v.HostDevName == nil:
		return http.StatusBadRequest, missing("host_dev_name")
	case *v.IfaceID != id:
		return http.StatusBadRequest, "The id from the path does not match the id from the body!"
	}
	if v.GuestMAC != nil {
		if hw, err := net.ParseMAC(*v.GuestMAC); err != nil || len(hw) != 6 {
			return http.StatusBadRequest, "Invalid guest MAC address: " + *v.GuestMAC
		}
	}
	s.ifaces[id] = v
	return noContent, ""
}

func (s *Server) putAction(body []byte) (int, string) {
	var v action
	if e := decode(body, &v); e != "" {
		return http.StatusBadRequest, e
	}
	if v.ActionType == nil {
		return http.StatusBadRequest, missing("action_type")
	}
	switch *v.ActionType {
	case "InstanceStart":
		if s.started {
			return http.StatusBadRequest, faultPostBoot
		}
		if s.boot == nil {
			return http.StatusBadRequest, "Start microvm error: Cannot start microvm without kernel configuration."
		}
		if !s.hasRoot() {
			return http.StatusBadRequest, "Start microvm error: no root block device configured (fake firecracker requires one)."
		}
		s.started = true
		args := ""
		if s.boot.BootArgs != nil {
			args = *s.boot.BootArgs
		}
		fmt.Fprintf(s.console, "fakefc: booting kernel %s with %q\nfakefc: drives %v\n\nfakevm login: ", *s.boot.KernelImagePath, args, s.driveOrder)
	case "SendCtrlAltDel":
		if !s.started {
			return http.StatusBadRequest, faultPreBoot
		}
		s.once.Do(func() { close(s.ctrlAltDel) })
	case "FlushMetrics":
		if !s.started {
			return http.StatusBadRequest, faultPreBoot
		}
	default:
		return http.StatusBadRequest, fmt.Sprintf("An error occurred when deserializing the json body of a request: unknown variant `%s`, expected one of `FlushMetrics`, `InstanceStart`, `SendCtrlAltDel`.", *v.ActionType)
	}
	return noContent, ""
}

func (s *Server) hasRoot() bool {
	for _, d := range s.drives {
		if *d.IsRootDevice {
			return true
		}
	}
	return false
}

// decode parses body strictly: unknown fields are errors, as with the real
// API's deserializer.
func decode(body []byte, v any) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return "An error occurred when deserializing the json body of a request: " + err.Error() + "."
	}
	if dec.More() {
		return "An error occurred when deserializing the json body of a request: trailing characters."
	}
	return ""
}

func missing(field string) string {
	return fmt.Sprintf("An error occurred when deserializing the json body of a request: missing field `%s`.", field)
}

func mustExist(field, path string) string {
	if _, err := os.Stat(path); err != nil {
		return fmt.Sprintf("Invalid %s %q: %v", field, path, err)
	}
	return ""
}

func oneOf(s string, opts ...string) bool {
	for _, o := range opts {
		if s == o {
			return true
		}
	}
	return false
}
