// Package api holds the request and response types shared by bangerd's HTTP
// server and the typed client the CLI and TUI use. All routes live under
// /v1/ on the daemon's unix socket; bodies are JSON.
package api

import "time"

// VM states.
const (
	StateCreating = "creating"
	StateRunning  = "running"
	StateStopped  = "stopped"
	StateError    = "error"
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
	// BootTimings splits the VM's last start; nil before its first start.
	BootTimings *BootTimings `json:"boot_timings,omitempty"`
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
	// verifying SSH handshake against the pinned host key and bookkeeping.
	ReadyMS int64 `json:"ready_ms"`
	// TotalMS is the whole start as the daemon saw it.
	TotalMS int64 `json:"total_ms"`
	// HandshakeMS is the part of ReadyMS spent in the verifying SSH
	// handshake (the guest's sshd work; the rest is banger's).
	HandshakeMS int64 `json:"handshake_ms,omitempty"`
	// Signal is how readiness was detected: "console" (the guest's
	// banger-ready line) or "poll" (SSH polling, for images without it).
	Signal string `json:"signal,omitempty"`
	// HostSteps splits HostMS by step (preflight, reserve, work_disk,
	// overlay, tap, nat, ...); VMMStartMS is the VMM spawn, the first part
	// of GuestMS.
	HostSteps  map[string]int64 `json:"host_steps,omitempty"`
	VMMStartMS int64            `json:"vmm_start_ms,omitempty"`
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
	CPUSeconds     float64 `json:"cpu_seconds"`
	CPUPercent     float64 `json:"cpu_percent"`
	RSSBytes       int64   `json:"rss_bytes"`
	WorkDiskSize   int64   `json:"work_disk_size"`
	WorkDiskAlloc  int64   `json:"work_disk_allocated"`
	OverlayAlloc   int64   `json:"overlay_allocated"`
	DiskReadBytes  int64   `json:"disk_read_bytes"`
	DiskWriteBytes int64   `json:"disk_write_bytes"`
	NetRxBytes     int64   `json:"net_rx_bytes"`
	NetTxBytes     int64   `json:"net_tx_bytes"`
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
