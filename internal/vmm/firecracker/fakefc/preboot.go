package fakefc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"strings"
	"syscall"
	"unicode"
)

// MaxCmdline is firecracker's x86_64 command line capacity, NUL included.
const MaxCmdline = 2048

// putPreBoot handles the pre-boot singleton resources.
func (s *Server) putPreBoot(res string, body []byte) (int, string) {
	switch res {
	case "logger":
		var v logger
		if e := decode(body, &v); e != "" {
			return badRequest, e
		}
		if v.Level != nil && !validLevel(*v.Level) {
			return badRequest, "An error occurred when deserializing the json body of a request: unknown variant `" + *v.Level + "`."
		}
		if v.LogPath != nil {
			if e := openCreate(*v.LogPath); e != "" {
				return badRequest, "Logger error: Failed to open target file: " + e
			}
		}
	case "metrics":
		var v metrics
		if e := decode(body, &v); e != "" {
			return badRequest, e
		}
		if v.MetricsPath == nil {
			return badRequest, missing("metrics_path")
		}
		if s.metricsSet {
			return badRequest, faultMetricsTwice
		}
		if e := openCreate(*v.MetricsPath); e != "" {
			return badRequest, "Metrics error: Cannot initialize the metrics system due to bad user input: " + e
		}
		s.metricsSet = true
	case "machine-config":
		var v machineConfig
		if e := decode(body, &v); e != "" {
			return badRequest, e
		}
		switch {
		case v.VCPUCount == nil:
			return badRequest, missing("vcpu_count")
		case v.MemSizeMiB == nil:
			return badRequest, missing("mem_size_mib")
		case *v.VCPUCount < 1 || *v.VCPUCount > 32:
			return badRequest, "Machine config error: The vCPU number is invalid! The vCPU number can only be 1 or an even number when SMT is enabled."
		case *v.MemSizeMiB < 1:
			return badRequest, "Machine config error: The memory size (MiB) is invalid."
		}
		s.bootPath = true
		s.machine = &v
	case "boot-source":
		var v bootSource
		if e := decode(body, &v); e != "" {
			return badRequest, e
		}
		if v.KernelImagePath == nil {
			return badRequest, missing("kernel_image_path")
		}
		s.bootPath = true
		if e := mustExist(*v.KernelImagePath); e != "" {
			return badRequest, "Boot source error: The kernel file cannot be opened: " + e
		}
		if v.InitrdPath != nil {
			if e := mustExist(*v.InitrdPath); e != "" {
				return badRequest, "Boot source error: The initrd file cannot be opened due to invalid path or invalid permissions. " + e
			}
		}
		if v.BootArgs != nil {
			if len(*v.BootArgs)+1 > MaxCmdline {
				return badRequest, faultCmdlineTooLarge
			}
			if strings.IndexFunc(*v.BootArgs, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
				return badRequest, "Boot source error: The kernel command line is invalid: Operation would have resulted in a non-printable ASCII character."
			}
		}
		s.boot = &v
	case "vsock":
		var v vsock
		if e := decode(body, &v); e != "" {
			return badRequest, e
		}
		switch {
		case v.GuestCID == nil:
			return badRequest, missing("guest_cid")
		case v.UDSPath == nil:
			return badRequest, missing("uds_path")
		case *v.GuestCID < 3 || *v.GuestCID > 0xffffffff:
			return badRequest, fmt.Sprintf("Vsock config error: Invalid guest CID: %d", *v.GuestCID)
		}
		s.bootPath = true
		if e := s.bindVsock(*v.UDSPath); e != "" {
			return badRequest, "Vsock config error: Cannot create backend for vsock device: " + e
		}
		s.vsock = &v
	}
	return noContent, ""
}

// bindVsock listens on the vsock device's host socket, as firecracker
// does when the device is configured; an existing file is an error.
func (s *Server) bindVsock(path string) string {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return "Error binding to the host-side Unix socket: " + errnoText(err)
	}
	if s.vsockLn != nil {
		s.vsockLn.Close()
	}
	s.vsockLn = ln
	return ""
}

func (s *Server) putDrive(id string, body []byte) (int, string) {
	var v drive
	if e := decode(body, &v); e != "" {
		return badRequest, e
	}
	switch {
	case v.DriveID == nil:
		return badRequest, missing("drive_id")
	case v.IsRootDevice == nil:
		return badRequest, missing("is_root_device")
	case *v.DriveID != id:
		return badRequest, "The id from the path does not match the id from the body!"
	case v.PathOnHost == nil || v.IsReadOnly == nil:
		return badRequest, "Drive config error: Unable to create the virtio block device: path_on_host and is_read_only are required for a virtio block device"
	}
	s.bootPath = true
	if e := openDrive(*v.PathOnHost, *v.IsReadOnly); e != "" {
		return badRequest, "Drive config error: Unable to create the virtio block device: " + e
	}
	if *v.IsRootDevice {
		for _, other := range s.drives {
			if *other.IsRootDevice && *other.DriveID != id {
				return badRequest, "Drive config error: A root block device already exists!"
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
		return badRequest, e
	}
	switch {
	case v.IfaceID == nil:
		return badRequest, missing("iface_id")
	case v.HostDevName == nil:
		return badRequest, missing("host_dev_name")
	case *v.IfaceID != id:
		return badRequest, "The id from the path does not match the id from the body!"
	}
	if v.GuestMAC != nil && !validMAC(*v.GuestMAC) {
		return badRequest, "An error occurred when deserializing the json body of a request: The provided MAC address is invalid."
	}
	s.bootPath = true
	// Firecracker builds the device, opening the tap, at this request.
	tap, e := openTap(*v.HostDevName)
	if e != "" {
		return badRequest, "Network config error: " + e
	}
	if old := s.taps[id]; old != nil {
		old.Close()
	}
	s.taps[id] = tap
	s.ifaces[id] = v
	return noContent, ""
}

// validID is firecracker's checked_id: alphanumeric (Unicode, as Rust's
// char::is_alphanumeric) or '_'.
func validID(id string) bool {
	for _, c := range id {
		if c != '_' && !unicode.IsLetter(c) && !unicode.IsNumber(c) {
			return false
		}
	}
	return id != ""
}

func validLevel(l string) bool {
	switch strings.ToLower(l) {
	case "error", "warning", "warn", "info", "debug", "trace", "off":
		return true
	}
	return false
}

// decode parses body strictly, as the real API's deserializer (serde with
// deny_unknown_fields): unknown, wrongly cased and repeated keys are
// errors.
func decode(body []byte, v any) string {
	if e := checkKeys(body, reflect.TypeOf(v)); e != "" {
		return e
	}
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

// mustExist checks an input file firecracker opens.
func mustExist(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return errnoText(err)
	}
	f.Close()
	return ""
}

// openCreate opens path as firecracker opens log and metrics targets:
// created when missing, never truncated or appended to.
func openCreate(path string) string {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return errnoText(err)
	}
	f.Close()
	return ""
}

// errnoText renders err as Rust's io::Error does: "No such file or
// directory (os error 2)".
func errnoText(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		t := en.Error()
		return strings.ToUpper(t[:1]) + t[1:] + fmt.Sprintf(" (os error %d)", int(en))
	}
	return err.Error()
}
