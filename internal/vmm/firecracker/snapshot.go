package firecracker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"github.com/bangerdev/banger/internal/execx"
	"github.com/bangerdev/banger/internal/vmm"
)

// File names firecracker's snapshot uses inside a state directory: the
// microVM (device and vCPU) state and the guest memory.
const (
	SnapshotFileName = "vmstate"
	MemoryFileName   = "memory"
)

// VMState is the body of PATCH /vm.
type VMState struct {
	State string `json:"state"`
}

// States of PATCH /vm.
const (
	StatePaused  = "Paused"
	StateResumed = "Resumed"
)

// SnapshotCreateParams is the body of PUT /snapshot/create.
type SnapshotCreateParams struct {
	SnapshotType string `json:"snapshot_type,omitempty"`
	SnapshotPath string `json:"snapshot_path"`
	MemFilePath  string `json:"mem_file_path"`
}

// MemoryBackend says where PUT /snapshot/load reads guest memory from.
type MemoryBackend struct {
	BackendType string `json:"backend_type"`
	BackendPath string `json:"backend_path"`
}

// NetworkOverride replaces the tap of a network interface on load.
type NetworkOverride struct {
	IfaceID     string `json:"iface_id"`
	HostDevName string `json:"host_dev_name"`
}

// VsockOverride replaces the vsock device's host socket on load.
type VsockOverride struct {
	UDSPath string `json:"uds_path"`
}

// SnapshotLoadParams is the body of PUT /snapshot/load. TrackDirtyPages
// replaces the deprecated enable_diff_snapshots. ClockRealtime is not
// sent: see docs/decisions.md.
type SnapshotLoadParams struct {
	SnapshotPath     string            `json:"snapshot_path"`
	MemBackend       *MemoryBackend    `json:"mem_backend,omitempty"`
	TrackDirtyPages  bool              `json:"track_dirty_pages,omitempty"`
	ResumeVM         bool              `json:"resume_vm"`
	NetworkOverrides []NetworkOverride `json:"network_overrides,omitempty"`
	VsockOverride    *VsockOverride    `json:"vsock_override,omitempty"`
}

// Suspend pauses the microVM (PATCH /vm Paused, which the snapshot API
// requires first), writes a full snapshot into stateDir (PUT
// /snapshot/create) and ends the process. On failure the microVM is resumed
// and the partial files removed.
func (d *Driver) Suspend(ctx context.Context, h vmm.Handle, stateDir string) error {
	if !d.Alive(h) {
		return fmt.Errorf("suspend vm: %w", vmm.ErrNotRunning)
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return fmt.Errorf("suspend vm: %w", err)
	}
	api := newAPIClient(h.ControlSocket)
	api.http.Timeout = 10 * time.Minute // writing guest memory takes a while
	if err := api.do(ctx, http.MethodPatch, "/vm", VMState{State: StatePaused}, nil); err != nil {
		return fmt.Errorf("suspend vm: pause: %w", err)
	}
	snap, mem := filepath.Join(stateDir, SnapshotFileName), filepath.Join(stateDir, MemoryFileName)
	params := SnapshotCreateParams{SnapshotType: "Full", SnapshotPath: snap + ".tmp", MemFilePath: mem + ".tmp"}
	err := api.put(ctx, "/snapshot/create", params)
	if err == nil {
		err = renameAll(map[string]string{params.SnapshotPath: snap, params.MemFilePath: mem})
	}
	if err != nil {
		os.Remove(params.SnapshotPath)
		os.Remove(params.MemFilePath)
		if rerr := api.do(context.Background(), http.MethodPatch, "/vm", VMState{State: StateResumed}, nil); rerr != nil {
			err = fmt.Errorf("%w (and resuming the guest failed: %v)", err, rerr)
		}
		return fmt.Errorf("suspend vm: create snapshot: %w", err)
	}
	// The snapshot is complete; firecracker has no quit request, and the
	// paused guest must not run on.
	if err := d.Kill(h, syscall.SIGKILL); err != nil && !errors.Is(err, vmm.ErrNotRunning) {
		return fmt.Errorf("suspend vm: end firecracker: %w", err)
	}
	return nil
}

func renameAll(m map[string]string) error {
	for from, to := range m {
		if err := os.Rename(from, to); err != nil {
			return err
		}
	}
	return nil
}

// loadSnapshot is the start path for spec.IncomingState: PUT
// /snapshot/load with resume_vm instead of the boot configuration and
// InstanceStart (the logger is set on the command line, and metrics are
// not used). The snapshot names the tap and the vsock socket it was taken
// with; the spec's are sent as overrides, so a renamed tap or moved socket
// still loads. Drive paths cannot be overridden (the daemon checks them
// first, see vmm.StateTraits).
func loadSnapshot(ctx context.Context, api *apiClient, spec vmm.Spec, vsock string) error {
	snap := filepath.Join(spec.IncomingState, SnapshotFileName)
	mem := filepath.Join(spec.IncomingState, MemoryFileName)
	for _, p := range []string{snap, mem} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("saved state incomplete: %w", err)
		}
	}
	params := SnapshotLoadParams{
		SnapshotPath: snap,
		MemBackend:   &MemoryBackend{BackendType: "File", BackendPath: mem},
		ResumeVM:     true,
	}
	if spec.Net != nil {
		params.NetworkOverrides = []NetworkOverride{{IfaceID: netIfaceID, HostDevName: spec.Net.Tap}}
	}
	if spec.VsockCID != 0 {
		params.VsockOverride = &VsockOverride{UDSPath: vsock}
	}
	return api.put(ctx, "/snapshot/load", params)
}

var fcVersionRe = regexp.MustCompile(`v?(\d+\.\d+\.\d+\S*)`)

// Version runs firecracker --version ("Firecracker v1.7.0").
func (d *Driver) Version(ctx context.Context) (string, error) {
	bin := d.Binary
	if bin == "" {
		bin = "firecracker"
	}
	out, err := execx.Output(ctx, bin, "--version")
	if err != nil {
		return "", fmt.Errorf("firecracker version: %w", err)
	}
	m := fcVersionRe.FindStringSubmatch(string(out))
	if m == nil {
		return "", fmt.Errorf("firecracker version: unrecognised output %q", out)
	}
	return m[1], nil
}

// StateTraits: firecracker maps guest memory from the memory file for the
// life of a restored microVM, and its snapshot records the drives' host
// paths (v1.16 can override only the tap and the vsock socket on load).
func (d *Driver) StateTraits() vmm.StateTraits {
	return vmm.StateTraits{MappedAfterLoad: true, DrivePathsFixed: true}
}

var _ vmm.StateTraitsReporter = (*Driver)(nil)
