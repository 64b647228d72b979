package model

import (
	"path/filepath"
	"time"

	"github.com/bangerdev/banger/internal/vmm"
)

// VM is one VM as the daemon knows it: its resources, its files, its state
// and, while it runs, the handle of its VMM process.
type VM struct {
	Name      string
	Image     string
	State     State
	VCPUs     int
	MemoryMiB int
	DiskSize  int64
	NAT       bool
	IP        string
	MAC       string
	Tap       string
	Driver    string
	// Dir holds the VM's files (disks, console log, saved state, snapshots).
	Dir           string
	OverlayKind   string
	OverlayPath   string
	OverlayFormat string
	// OverlayDevice is the activated overlay's block device (dm-snapshot),
	// empty for file overlays.
	OverlayDevice string
	WorkDisk      string
	Kernel        string
	Initrd        string
	BaseImage     string
	HostKeyPub    string
	// Handle is the running VMM process; nil when there is none.
	Handle *vmm.Handle
	// LastError says why the VM last stopped or failed to start or resume.
	LastError string
	CreatedAt time.Time
	StartedAt time.Time
	// SavedState is the saved memory and device state of a suspended VM;
	// nil when there is none.
	SavedState *SavedState
	// ResumeOnStart records that `vm suspend --all` suspended this VM, so
	// a daemon configured with resume_on_start resumes it when it starts.
	ResumeOnStart bool
	// BootTimings splits the VM's last start; nil before its first start.
	BootTimings *BootTimings
}

// Process returns the handle of v's VMM process when one is recorded.
func (v *VM) Process() (vmm.Handle, bool) {
	if v.Handle == nil || v.Handle.PID == 0 {
		return vmm.Handle{}, false
	}
	return *v.Handle, true
}

// ConsoleLog is the file the VM's serial console is written to.
func (v *VM) ConsoleLog() string { return filepath.Join(v.Dir, "console.log") }

// DNSName is the name the VM answers to on the host.
func (v *VM) DNSName() string { return v.Name + ".vm" }

// SavedState is the saved memory and device state of a suspended VM (or of
// a snapshot taken with --memory), with what it can only be loaded into.
// It is also written, as JSON, next to the state files (banger-state.json).
type SavedState struct {
	// Dir holds the state files.
	Dir string `json:"dir"`
	// Driver and VMMVersion name the VMM that wrote the state.
	Driver     string `json:"driver"`
	VMMVersion string `json:"vmm_version"`
	// VCPUs and MemoryMiB are the machine the state belongs to.
	VCPUs     int `json:"vcpus"`
	MemoryMiB int `json:"memory_mib"`
	// DrivePaths are the host paths of the VM's drives in guest order and
	// Tap its tap device, as they were when the state was saved: a
	// firecracker state records them and loads only with the same drive
	// paths (the tap is overridden on load). Empty in states saved before
	// they were recorded.
	DrivePaths []string `json:"drive_paths,omitempty"`
	Tap        string   `json:"tap,omitempty"`
	// Size is the host space the state files take, in bytes.
	Size    int64     `json:"size"`
	SavedAt time.Time `json:"saved_at"`
}

// BootTimings is where the time of one VM start went, in milliseconds (see
// docs/boot.md and api.BootTimings, its wire form).
type BootTimings struct {
	HostMS      int64            `json:"host_ms"`
	GuestMS     int64            `json:"guest_ms"`
	ReadyMS     int64            `json:"ready_ms"`
	TotalMS     int64            `json:"total_ms"`
	HandshakeMS int64            `json:"handshake_ms,omitempty"`
	Signal      string           `json:"signal,omitempty"`
	HostSteps   map[string]int64 `json:"host_steps,omitempty"`
	VMMStartMS  int64            `json:"vmm_start_ms,omitempty"`
}

// SnapshotFiles are the files of one snapshot: copies of the VM's disks
// and, for a snapshot with memory, its saved running state.
type SnapshotFiles struct {
	Overlay  string      `json:"overlay"`
	WorkDisk string      `json:"work_disk"`
	State    *SavedState `json:"state,omitempty"`
}
