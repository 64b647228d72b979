package fakefc

import "encoding/json"

// Request bodies as the fake understands them, written independently of
// the driver from firecracker's OpenAPI description. Pointer fields tell a
// missing required field from a zero value.

type logger struct {
	LogPath       *string `json:"log_path"`
	Level         *string `json:"level"`
	ShowLevel     *bool   `json:"show_level"`
	ShowLogOrigin *bool   `json:"show_log_origin"`
	Module        *string `json:"module"`
}

type metrics struct {
	MetricsPath *string `json:"metrics_path"`
}

type machineConfig struct {
	VCPUCount       *int    `json:"vcpu_count"`
	MemSizeMiB      *int    `json:"mem_size_mib"`
	SMT             *bool   `json:"smt"`
	TrackDirtyPages *bool   `json:"track_dirty_pages"`
	CPUTemplate     *string `json:"cpu_template"`
	HugePages       *string `json:"huge_pages"`
}

type bootSource struct {
	KernelImagePath *string `json:"kernel_image_path"`
	BootArgs        *string `json:"boot_args"`
	InitrdPath      *string `json:"initrd_path"`
}

type drive struct {
	DriveID      *string `json:"drive_id"`
	PathOnHost   *string `json:"path_on_host"`
	IsRootDevice *bool   `json:"is_root_device"`
	IsReadOnly   *bool   `json:"is_read_only"`
	PartUUID     *string `json:"partuuid"`
	CacheType    *string `json:"cache_type"`
	IOEngine     *string `json:"io_engine"`
}

type networkInterface struct {
	IfaceID     *string `json:"iface_id"`
	HostDevName *string `json:"host_dev_name"`
	GuestMAC    *string `json:"guest_mac"`
	MTU         *int    `json:"mtu"`
}

type vsock struct {
	GuestCID *int64  `json:"guest_cid"`
	UDSPath  *string `json:"uds_path"`
	VsockID  *string `json:"vsock_id"`
}

type action struct {
	ActionType *string `json:"action_type"`
}

// Fault messages of firecracker's pre/post-boot checks.
const (
	faultPostBoot = "The requested operation is not supported after starting the microVM."
	faultPreBoot  = "The requested operation is not supported before starting the microVM."
)

type vmState struct {
	State *string `json:"state"`
}

type snapshotCreate struct {
	SnapshotType *string `json:"snapshot_type"`
	SnapshotPath *string `json:"snapshot_path"`
	MemFilePath  *string `json:"mem_file_path"`
}

type memBackend struct {
	BackendType *string `json:"backend_type"`
	BackendPath *string `json:"backend_path"`
}

type networkOverride struct {
	IfaceID     *string `json:"iface_id"`
	HostDevName *string `json:"host_dev_name"`
}

type vsockOverride struct {
	UDSPath *string `json:"uds_path"`
}

type snapshotLoad struct {
	SnapshotPath        *string           `json:"snapshot_path"`
	MemFilePath         *string           `json:"mem_file_path"`
	MemBackend          *json.RawMessage  `json:"mem_backend"`
	EnableDiffSnapshots *bool             `json:"enable_diff_snapshots"`
	TrackDirtyPages     *bool             `json:"track_dirty_pages"`
	ResumeVM            *bool             `json:"resume_vm"`
	NetworkOverrides    []networkOverride `json:"network_overrides"`
	VsockOverride       *vsockOverride    `json:"vsock_override"`
	ClockRealtime       *bool             `json:"clock_realtime"`
}

// savedState is what the fake writes as a "snapshot": the configuration
// it needs to come back as the same microVM.
type savedState struct {
	Magic     string                      `json:"fakefc_snapshot"`
	Machine   machineConfig               `json:"machine"`
	BootArgs  string                      `json:"boot_args"`
	Drives    []drive                     `json:"drives"`
	Ifaces    map[string]networkInterface `json:"ifaces"`
	Vsock     *vsock                      `json:"vsock"`
	KbdInited bool                        `json:"kbd_inited"`
}

const snapshotMagic = "fakefc-v1"

// Fault messages of firecracker v1.16 (src/vmm/src/rpc_interface.rs and
// src/firecracker/src/api_server).
const (
	faultLoadAfterConfig = "Load snapshot error: Loading a microVM snapshot not allowed after configuring boot-specific resources."
	faultSaveRunning     = "Create snapshot error: Cannot save the microVM state: Operation not allowed: save/restore unavailable while running"
	faultKbdBufferFull   = "Internal VMM error: I8042 error: i8042 internal buffer full."
	faultMetricsTwice    = "Metrics error: Cannot initialize the metrics system due to bad user input: Reinitialization of metrics not allowed."
	faultInvalidID       = "API Resource IDs can only contain alphanumeric characters and underscores."
	faultEmptyID         = "The ID cannot be empty."
	faultMemMissing      = "missing field: either `mem_backend` or `mem_file_path` is required"
	faultMemTooMany      = "too many fields: either `mem_backend` or `mem_file_path` exclusively is required"
	faultCmdlineTooLarge = "Boot source error: The kernel command line is invalid: Operation would have made the command line too large."
)
