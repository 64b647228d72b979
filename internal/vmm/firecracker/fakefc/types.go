package fakefc

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

// Fault messages modelled on firecracker's.
const (
	faultPostBoot = "The requested operation is not supported after starting the microVM."
	faultPreBoot  = "The requested operation is not supported before starting the microVM."
)
