// Package fakefc is a stand-in for the firecracker binary (v1.16, x86_64)
// in tests. It serves the subset of firecracker's REST API banger uses on a
// unix socket and enforces what firecracker enforces, with its fault
// messages, as read from firecracker's source and OpenAPI description:
//
//   - the command line as firecracker's arg_parser reads it: "--flag
//     value" only, each flag once, exit 153 otherwise; --version answers
//     "Firecracker vX.Y.Z"; SIGTERM and SIGINT end the process by the
//     signal (firecracker handles neither);
//   - request shapes: required fields, no unknown fields, keys matched
//     exactly and once (as serde does), path and body ids equal, resource
//     ids of letters, digits and '_' only, an empty PUT body refused,
//     guest_mac as six ':'-separated hex pairs;
//   - ordering: pre-boot resources refused after InstanceStart, runtime
//     actions (SendCtrlAltDel, FlushMetrics, PATCH /vm, snapshot create)
//     refused before it; metrics set once (on the command line or by PUT
//     /metrics); the logger may be reconfigured before boot, as in v1.16;
//   - devices as firecracker opens them: drives read-write unless
//     is_read_only, taps through /dev/net/tun with TUNSETIFF (busy,
//     missing and foreign taps refused as for a process without
//     CAP_NET_ADMIN), both at configuration and at snapshot load; the
//     kernel parsed as a 64-bit x86 ELF at InstanceStart;
//   - the kernel command line capacity (2048 bytes with the terminating
//     NUL), checked at PUT /boot-source and again at InstanceStart with
//     what firecracker appends (pci=off, root=, virtio_mmio.device=);
//   - Ctrl-Alt-Del as the i8042 device handles it: keys go to a 16-byte
//     buffer; the guest reads them only once its keyboard driver is up
//     (Options.KeyboardReady after InstanceStart), and that driver flushes
//     whatever was pressed before, so an early press is answered 204 and
//     lost; a fifth unread press is refused with firecracker's 400 "i8042
//     internal buffer full". A press the guest reads makes it reboot, and
//     with reboot=k the process exits 0;
//   - PATCH /vm Paused/Resumed; PUT /snapshot/create only while Paused;
//     PUT /snapshot/load only on a fresh process (nothing but logger and
//     metrics configured), with exactly one of mem_backend and
//     mem_file_path, and a failed restore ending the process as
//     firecracker does;
//   - files: the log, metrics, vsock socket and snapshot files are created
//     by the fake, as firecracker creates them; the kernel, initrd, drives
//     and snapshot inputs must exist. The log and metrics files are opened
//     without O_APPEND or O_TRUNC, like firecracker's.
//
// What the fake cannot know it does not check: KVM, the host CPU model
// and CPU templates, whether the kernel boots, vCPU count limits of the
// host, packets on the tap, guest memory contents (a snapshot's memory
// file is a sparse file of the guest's size), Uffd memory backends
// (refused), and device hotplug after boot (refused). A guest that powers
// itself off is modelled by Options.PowerOffAfter: it prints Linux's last
// line and halts, and the process runs on, as firecracker's does on x86.
package fakefc

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Options configure the fake's guest.
type Options struct {
	// Console receives the guest serial console.
	Console io.Writer
	// Log receives firecracker's own log lines (nil: discarded).
	Log io.Writer
	// KeyboardReady is how long after InstanceStart the guest's keyboard
	// driver takes to come up and read Ctrl-Alt-Del.
	KeyboardReady time.Duration
	// RebootDelay is how long the guest takes from reading Ctrl-Alt-Del to
	// the reset that ends the process.
	RebootDelay time.Duration
	// PowerOffAfter, when non-zero, makes the guest power itself off that
	// long after InstanceStart (as `poweroff` typed in the guest).
	PowerOffAfter time.Duration
	// MetricsConfigured tells the fake that metrics were set on the
	// command line (--metrics-path).
	MetricsConfigured bool
}

// Instance states reported by GET /.
const (
	StateNotStarted = "Not started"
	StateRunning    = "Running"
	StatePaused     = "Paused"
)

// Server is the fake API. Create it with NewServer.
type Server struct {
	opts Options

	mu         sync.Mutex
	state      string
	bootPath   bool // a boot-specific resource was configured
	metricsSet bool
	boot       *bootSource
	machine    *machineConfig
	drives     map[string]drive
	driveOrder []string
	ifaces     map[string]networkInterface
	taps       map[string]*os.File // attached taps by interface id
	vsock      *vsock
	vsockLn    net.Listener
	kbd        keyboard
	halted     bool
	requests   []string

	exitOnce sync.Once
	exited   chan struct{}
	exitCode int
}

// NewServer returns a fake firecracker process state configured by opts.
func NewServer(opts Options) *Server {
	if opts.Console == nil {
		opts.Console = io.Discard
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	return &Server{
		opts:       opts,
		state:      StateNotStarted,
		metricsSet: opts.MetricsConfigured,
		drives:     map[string]drive{},
		ifaces:     map[string]networkInterface{},
		taps:       map[string]*os.File{},
		exited:     make(chan struct{}),
	}
}

// Exited is closed when the process should exit: the guest reset itself
// (Ctrl-Alt-Del, reboot with reboot=k) or a snapshot restore failed.
func (s *Server) Exited() <-chan struct{} { return s.exited }

// ExitCode is the exit status once Exited is closed.
func (s *Server) ExitCode() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exitCode
}

// exitAfter ends the process with code after d, leaving time for the API
// answer to go out first.
func (s *Server) exitAfter(d time.Duration, code int) {
	time.AfterFunc(d, func() {
		s.exitOnce.Do(func() {
			s.mu.Lock()
			s.exitCode = code
			s.releaseLocked()
			s.mu.Unlock()
			close(s.exited)
		})
	})
}

// Close releases what the process holds (attached taps, the vsock
// socket), as its exit would.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseLocked()
}

func (s *Server) releaseLocked() {
	if s.vsockLn != nil {
		s.vsockLn.Close()
	}
	for id, f := range s.taps {
		f.Close()
		delete(s.taps, id)
	}
}

// Requests returns "METHOD /path" of every request so far.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// State returns the instance state GET / reports.
func (s *Server) State() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Started reports whether the microVM runs or is paused (booted or
// restored from a snapshot).
func (s *Server) Started() bool { return s.State() != StateNotStarted }

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
		fmt.Fprintf(s.opts.Log, "[fakefc:fc_api:ERROR] %s %s: %s\n", r.Method, r.URL.Path, msg)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		b, _ := json.Marshal(map[string]string{"fault_message": msg})
		w.Write(b)
	}
}

const (
	noContent  = http.StatusNoContent
	badRequest = http.StatusBadRequest
)

// preBootOnly are the PUT resources refused after InstanceStart.
var preBootOnly = map[string]bool{"logger": true, "metrics": true, "machine-config": true, "boot-source": true, "vsock": true}

func (s *Server) route(r *http.Request) (int, string) {
	tokens := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	res := tokens[0]
	id := ""
	if len(tokens) > 1 {
		id = tokens[1]
	}
	invalid := fmt.Sprintf("Invalid request method and/or path: %s %s.", r.Method, r.URL.Path)
	if r.Method == http.MethodGet {
		if r.URL.Path != "/" {
			return badRequest, invalid
		}
		b, _ := json.Marshal(map[string]string{"app_name": "Firecracker", "id": "anonymous-instance", "state": s.state, "vmm_version": Version})
		return http.StatusOK, string(b)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return badRequest, err.Error()
	}
	if len(body) == 0 && (r.Method == http.MethodPut || r.Method == http.MethodPatch) {
		return badRequest, fmt.Sprintf("Empty %s request.", r.Method)
	}
	switch {
	case r.Method == http.MethodPatch && r.URL.Path == "/vm":
		return s.patchVM(body)
	case r.Method != http.MethodPut:
		return badRequest, invalid
	case res == "actions":
		return s.putAction(body)
	case res == "snapshot" && id == "create":
		return s.createSnapshot(body)
	case res == "snapshot" && id == "load":
		return s.loadSnapshot(body)
	case res == "drives" || res == "network-interfaces":
		if id == "" {
			return badRequest, faultEmptyID
		}
		if !validID(id) {
			return badRequest, faultInvalidID
		}
		if s.state != StateNotStarted {
			return badRequest, "fake firecracker: device hotplug after boot is not modelled"
		}
		if res == "drives" {
			return s.putDrive(id, body)
		}
		return s.putIface(id, body)
	case preBootOnly[res] && len(tokens) == 1:
		if s.state != StateNotStarted {
			return badRequest, faultPostBoot
		}
		return s.putPreBoot(res, body)
	}
	return badRequest, invalid
}
