// Package api holds the request and response types shared by bangerd's HTTP
// server and the typed client the CLI and TUI use. All routes live under
// /v1/ on the daemon's unix socket; bodies are JSON. Request bodies are
// decoded strictly (DecodeRequest): field names match exactly, in case too,
// and an unknown field is refused by name.
package api

import "time"

// VM states (model.State is the daemon's typed form; see its table of
// which operation each allows). A VM whose start or adoption failed is
// stopped with LastError saying why; there is no error state.
const (
	StateCreating = "creating"
	StateRunning  = "running"
	StateStopped  = "stopped"
	// StateSuspended: the VMM process is gone and the guest's memory and
	// device state is saved in the VM's directory; start resumes it.
	StateSuspended = "suspended"
)

// VM is a VM as the daemon reports it.
type VM struct {
	Name      string    `json:"name"`
	State     string    `json:"state"`
	Image     string    `json:"image"`
	IP        string    `json:"ip"`
	MAC       string    `json:"mac"`
	Tap       string    `json:"tap"`
	VCPUs     int       `json:"vcpus"`
	MemoryMiB int       `json:"memory_mib"`
	DiskSize  int64     `json:"disk_size"`
	NAT       bool      `json:"nat"`
	Driver    string    `json:"driver"`
	Accel     string    `json:"accel,omitempty"`
	PID       int       `json:"pid,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	StartedAt time.Time `json:"started_at,omitempty"`
	DNSName   string    `json:"dns_name"`
	LastError string    `json:"last_error,omitempty"`
	Files     VMFiles   `json:"files"`
	// SavedState describes the saved state of a suspended VM.
	SavedState *SavedState `json:"saved_state,omitempty"`
	// BootTimings splits the VM's last start; nil before its first start.
	BootTimings *BootTimings `json:"boot_timings,omitempty"`
}

// SavedState is the saved memory and device state of a suspended VM (or of
// a snapshot taken with --memory), with what it can only be loaded into.
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

// VMFiles lists the host files that belong to a VM.
type VMFiles struct {
	Dir           string `json:"dir"`
	Overlay       string `json:"overlay"`
	OverlayKind   string `json:"overlay_kind"`
	WorkDisk      string `json:"work_disk"`
	ConsoleLog    string `json:"console_log"`
	ControlSocket string `json:"control_socket,omitempty"`
	Kernel        string `json:"kernel"`
	Initrd        string `json:"initrd,omitempty"`
	BaseImage     string `json:"base_image"`
}

// BootTimings is where the time of one VM start went, in milliseconds
// (see docs/boot.md). HostMS+GuestMS+ReadyMS is TotalMS up to rounding.
type BootTimings struct {
	// HostMS is banger's host work before the VMM starts (name and
	// address, keys, work disk, overlay, tap, NAT).
	HostMS int64 `json:"host_ms"`
	// GuestMS runs from starting the VMM to the guest's ready signal
	// (sshd accepts); 0 for a start that did not wait.
	GuestMS int64 `json:"guest_ms"`
	// ReadyMS runs from the ready signal to the command's answer: the
	// verifying SSH probe against the pinned host key (for a resume, the
	// login that sets the clock) and bookkeeping.
	ReadyMS int64 `json:"ready_ms"`
	// TotalMS is the whole start as the daemon saw it.
	TotalMS int64 `json:"total_ms"`
	// HandshakeMS is the part of ReadyMS spent in the verifying SSH
	// handshake (the guest's sshd work; the rest is banger's).
	HandshakeMS int64 `json:"handshake_ms,omitempty"`
	// Signal is how readiness was detected: "console" (the guest's
	// banger-ready line), "poll" (SSH polling, for images without it) or
	// "resume" (a resumed guest: ready timed from the state load).
	Signal string `json:"signal,omitempty"`
	// HostSteps splits HostMS by step (preflight, reserve, work_disk,
	// overlay, tap, nat, ...); VMMStartMS is the VMM spawn, the first part
	// of GuestMS.
	HostSteps  map[string]int64 `json:"host_steps,omitempty"`
	VMMStartMS int64            `json:"vmm_start_ms,omitempty"`
}

// CreateVMRequest is the body of POST /v1/vms.
type CreateVMRequest struct {
	Name      string `json:"name,omitempty"`
	Image     string `json:"image,omitempty"`
	VCPUs     int    `json:"vcpus,omitempty"`
	MemoryMiB int    `json:"memory_mib,omitempty"`
	DiskSize  int64  `json:"disk_size,omitempty"`
	NAT       bool   `json:"nat,omitempty"`
	NoWait    bool   `json:"no_wait,omitempty"`
}

// SetVMRequest is the body of PATCH /v1/vms/{name}. Nil fields are unchanged.
type SetVMRequest struct {
	VCPUs     *int   `json:"vcpus,omitempty"`
	MemoryMiB *int   `json:"memory_mib,omitempty"`
	DiskSize  *int64 `json:"disk_size,omitempty"`
	NAT       *bool  `json:"nat,omitempty"`
}

// KillRequest is the body of POST /v1/vms/{name}/kill.
type KillRequest struct {
	Signal string `json:"signal"`
}

// StartRequest is the body of POST /v1/vms/{name}/start and /restart.
type StartRequest struct {
	NoWait bool `json:"no_wait,omitempty"`
	// Cold discards a suspended VM's saved state and boots it afresh.
	Cold bool `json:"cold,omitempty"`
}

// SuspendRequest is the body of POST /v1/vms/{name}/suspend.
type SuspendRequest struct {
	// ResumeOnStart records the VM for resumption at the next daemon
	// start (honoured when resume_on_start is set); `vm suspend --all`
	// sets it.
	ResumeOnStart bool `json:"resume_on_start,omitempty"`
}

// Snapshot is a point-in-time copy of a VM's disks, optionally with its
// running state.
type Snapshot struct {
	VM   string `json:"vm"`
	Name string `json:"name"`
	// Memory is true when the snapshot holds a saved running state.
	Memory bool `json:"memory"`
	// Method is how the disks were copied: "reflink" (copy-on-write, shares
	// blocks with the VM's disks) or "sparse-copy".
	Method string `json:"method"`
	// Allocated is the host space the snapshot's files take, in bytes
	// (for reflink copies, blocks shared with the VM count too).
	Allocated int64     `json:"allocated"`
	Dir       string    `json:"dir"`
	CreatedAt time.Time `json:"created_at"`
}

// SnapshotRequest is the body of POST /v1/vms/{name}/snapshots.
type SnapshotRequest struct {
	// Name is the snapshot name; empty picks one from the time.
	Name string `json:"name,omitempty"`
	// Memory also saves the running state (the VM must be running or
	// suspended).
	Memory bool `json:"memory,omitempty"`
	// NoWait, for a running VM, neither flushes the guest's page cache
	// over SSH before the copy nor waits for SSH after resuming it.
	NoWait bool `json:"no_wait,omitempty"`
}

// RestoreRequest is the body of POST /v1/vms/{name}/snapshots/{snap}/restore.
type RestoreRequest struct {
	// Force stops a running VM first.
	Force bool `json:"force,omitempty"`
}

// CloneRequest is the body of POST /v1/vms/{name}/clone.
type CloneRequest struct {
	// Name is the new VM's name; empty generates one.
	Name   string `json:"name,omitempty"`
	NAT    bool   `json:"nat,omitempty"`
	NoWait bool   `json:"no_wait,omitempty"`
}

// SSHTarget is what a client needs to reach a VM over SSH itself.
type SSHTarget struct {
	Name       string `json:"name"`
	IP         string `json:"ip"`
	User       string `json:"user"`
	KeyPath    string `json:"key_path"`
	KnownHosts string `json:"known_hosts"`
	HostKey    string `json:"host_key"`
	State      string `json:"state"`
}

// VMStats is the body of GET /v1/vms/{name}/stats.
type VMStats struct {
	Name  string      `json:"name"`
	State string      `json:"state"`
	Host  HostStats   `json:"host"`
	Guest *GuestStats `json:"guest,omitempty"`
	// GuestError says why guest figures are missing for a running VM.
	GuestError string `json:"guest_error,omitempty"`
}

// HostStats are measured on the host for the VMM process and VM files.
type HostStats struct {
	CPUSeconds    float64 `json:"cpu_seconds"`
	CPUPercent    float64 `json:"cpu_percent"`
	RSSBytes      int64   `json:"rss_bytes"`
	WorkDiskSize  int64   `json:"work_disk_size"`
	WorkDiskAlloc int64   `json:"work_disk_allocated"`
	OverlayAlloc  int64   `json:"overlay_allocated"`
	// StateAlloc is the host space of the VM's saved state: the state of
	// a suspended VM, or the memory file a resumed firecracker VM maps
	// until it stops or is suspended again.
	StateAlloc     int64 `json:"state_allocated,omitempty"`
	DiskReadBytes  int64 `json:"disk_read_bytes"`
	DiskWriteBytes int64 `json:"disk_write_bytes"`
	NetRxBytes     int64 `json:"net_rx_bytes"`
	NetTxBytes     int64 `json:"net_tx_bytes"`
}

// GuestStats are read inside the guest over SSH.
type GuestStats struct {
	UptimeSeconds float64 `json:"uptime_seconds"`
	Load1         float64 `json:"load1"`
	Load5         float64 `json:"load5"`
	Load15        float64 `json:"load15"`
	MemTotal      int64   `json:"mem_total"`
	MemAvailable  int64   `json:"mem_available"`
	RootSize      int64   `json:"root_size"`
	RootUsed      int64   `json:"root_used"`
	WorkSize      int64   `json:"work_size"`
	WorkUsed      int64   `json:"work_used"`
}

// Image is a registered read-only base image.
type Image struct {
	Name      string    `json:"name"`
	Path      string    `json:"path"`
	Kernel    string    `json:"kernel"`
	Initrd    string    `json:"initrd,omitempty"`
	Modules   string    `json:"modules,omitempty"`
	Packages  []string  `json:"packages,omitempty"`
	Size      int64     `json:"size"`
	Builtin   bool      `json:"builtin"`
	CreatedAt time.Time `json:"created_at"`
	UsedBy    []string  `json:"used_by,omitempty"`
}

// BuildImageRequest is the body of POST /v1/images.
type BuildImageRequest struct {
	Name     string   `json:"name"`
	Base     string   `json:"base,omitempty"`
	Docker   bool     `json:"docker,omitempty"`
	Packages []string `json:"packages,omitempty"`
	Size     int64    `json:"size,omitempty"`
}

// SaveImageRequest is the body of POST /v1/images/save: save VM's root
// disk as the image Name.
type SaveImageRequest struct {
	VM   string `json:"vm"`
	Name string `json:"name"`
	// Stop powers a running VM off first; without it a running VM is
	// refused.
	Stop bool `json:"stop,omitempty"`
}

// DaemonStatus is the body of GET /v1/status.
type DaemonStatus struct {
	PID        int            `json:"pid"`
	Version    string         `json:"version"`
	APIVersion string         `json:"api_version"`
	StartedAt  time.Time      `json:"started_at"`
	Uptime     string         `json:"uptime"`
	Socket     string         `json:"socket"`
	StateDir   string         `json:"state_dir"`
	RuntimeDir string         `json:"runtime_dir"`
	VMM        string         `json:"vmm"`
	VMMReason  string         `json:"vmm_reason"`
	VMCounts   map[string]int `json:"vm_counts"`
	// Goroutines is the daemon's goroutine count (leak checks).
	Goroutines int `json:"goroutines,omitempty"`
}

// DoctorCheck is one row of `banger doctor`.
type DoctorCheck struct {
	Area   string `json:"area"`
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Error is the body of every non-2xx response.
type Error struct {
	Message string `json:"error"`
}
