package fakefc

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// createSnapshot writes the microVM state and a memory file of the guest's
// size. Firecracker creates both files; their directory must exist.
func (s *Server) createSnapshot(body []byte) (int, string) {
	if s.state == StateNotStarted {
		return badRequest, faultPreBoot
	}
	var v snapshotCreate
	if e := decode(body, &v); e != "" {
		return badRequest, e
	}
	switch {
	case v.SnapshotPath == nil:
		return badRequest, missing("snapshot_path")
	case v.MemFilePath == nil:
		return badRequest, missing("mem_file_path")
	case v.SnapshotType != nil && *v.SnapshotType != "Full" && *v.SnapshotType != "Diff":
		return badRequest, fmt.Sprintf("An error occurred when deserializing the json body of a request: unknown variant `%s`, expected `Diff` or `Full`.", *v.SnapshotType)
	}
	if s.state != StatePaused {
		return badRequest, faultSaveRunning
	}
	st := savedState{Magic: snapshotMagic, Machine: *s.machineOrDefault(), Ifaces: s.ifaces, Vsock: s.vsock, KbdInited: s.kbd.inited}
	if s.boot != nil && s.boot.BootArgs != nil {
		st.BootArgs = *s.boot.BootArgs
	}
	for _, id := range s.driveOrder {
		st.Drives = append(st.Drives, s.drives[id])
	}
	b, _ := json.Marshal(st)
	if err := os.WriteFile(*v.SnapshotPath, b, 0o600); err != nil {
		return badRequest, "Create snapshot error: Cannot perform open on the snapshot backing file: " + errnoText(err)
	}
	f, err := os.OpenFile(*v.MemFilePath, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return badRequest, "Create snapshot error: Cannot write memory file: " + errnoText(err)
	}
	defer f.Close()
	if err := f.Truncate(int64(*st.Machine.MemSizeMiB) << 20); err != nil {
		return badRequest, "Create snapshot error: Cannot write memory file: " + errnoText(err)
	}
	return noContent, ""
}

func (s *Server) machineOrDefault() *machineConfig {
	if s.machine != nil {
		return s.machine
	}
	one, mem := 1, 128
	return &machineConfig{VCPUCount: &one, MemSizeMiB: &mem}
}

// loadSnapshot restores a microVM on a fresh process. Shape errors are
// plain 400s; a failed restore also ends the process, as firecracker
// considers it too dirty to recover.
func (s *Server) loadSnapshot(body []byte) (int, string) {
	if s.state != StateNotStarted {
		return badRequest, faultPostBoot
	}
	var v snapshotLoad
	if e := decode(body, &v); e != "" {
		return badRequest, e
	}
	if v.SnapshotPath == nil {
		return badRequest, missing("snapshot_path")
	}
	memPath := ""
	switch {
	case v.MemBackend != nil && v.MemFilePath != nil:
		return badRequest, "An error occurred when deserializing the json body of a request: " + faultMemTooMany + "."
	case v.MemBackend == nil && v.MemFilePath == nil:
		return badRequest, "An error occurred when deserializing the json body of a request: " + faultMemMissing + "."
	case v.MemFilePath != nil:
		memPath = *v.MemFilePath
	default:
		var mb memBackend
		if e := decode(*v.MemBackend, &mb); e != "" {
			return badRequest, e
		}
		switch {
		case mb.BackendPath == nil:
			return badRequest, missing("backend_path")
		case mb.BackendType == nil:
			return badRequest, missing("backend_type")
		case *mb.BackendType == "Uffd":
			return badRequest, "fake firecracker: the Uffd memory backend is not modelled"
		case *mb.BackendType != "File":
			return badRequest, fmt.Sprintf("An error occurred when deserializing the json body of a request: unknown variant `%s`, expected `File` or `Uffd`.", *mb.BackendType)
		}
		memPath = *mb.BackendPath
	}
	for _, o := range v.NetworkOverrides {
		if o.IfaceID == nil || o.HostDevName == nil {
			return badRequest, missing("host_dev_name")
		}
	}
	if v.VsockOverride != nil && v.VsockOverride.UDSPath == nil {
		return badRequest, missing("uds_path")
	}
	if s.bootPath {
		return badRequest, faultLoadAfterConfig
	}
	if e := s.restore(*v.SnapshotPath, memPath, v); e != "" {
		s.exitAfter(50*time.Millisecond, 1)
		return badRequest, "Load snapshot error: Failed to restore from snapshot: " + e
	}
	s.state = StatePaused
	if v.ResumeVM != nil && *v.ResumeVM {
		s.state = StateRunning
	}
	return noContent, ""
}

// restore rebuilds the microVM from the files of createSnapshot.
func (s *Server) restore(snapPath, memPath string, v snapshotLoad) string {
	b, err := os.ReadFile(snapPath)
	if err != nil {
		return "Failed to get snapshot state from file: Failed to open snapshot file: " + errnoText(err)
	}
	var st savedState
	if json.Unmarshal(b, &st) != nil || st.Magic != snapshotMagic || st.Machine.MemSizeMiB == nil {
		return "Failed to get snapshot state from file: Failed to load snapshot state from file: Snapshot magic value mismatch"
	}
	fi, err := os.Stat(memPath)
	if err != nil {
		return "Failed to load guest memory: Cannot create guest memory: " + errnoText(err)
	}
	if fi.Size() < int64(*st.Machine.MemSizeMiB)<<20 {
		return fmt.Sprintf("Failed to load guest memory: the memory file is %d bytes, smaller than the guest's %d MiB", fi.Size(), *st.Machine.MemSizeMiB)
	}
	for _, d := range st.Drives {
		if e := openDrive(*d.PathOnHost, d.IsReadOnly != nil && *d.IsReadOnly); e != "" {
			return "Cannot restore devices: Block: " + e
		}
	}
	for _, o := range v.NetworkOverrides {
		iface, ok := st.Ifaces[*o.IfaceID]
		if !ok {
			return fmt.Sprintf("Invalid network override: no interface %s in the snapshot", *o.IfaceID)
		}
		iface.HostDevName = o.HostDevName
		st.Ifaces[*o.IfaceID] = iface
	}
	for id, iface := range st.Ifaces {
		tap, e := openTap(*iface.HostDevName)
		if e != "" {
			return "Cannot restore devices: Net: " + e
		}
		s.taps[id] = tap
	}
	if st.Vsock != nil {
		if v.VsockOverride != nil {
			st.Vsock.UDSPath = v.VsockOverride.UDSPath
		}
		if e := s.bindVsock(*st.Vsock.UDSPath); e != "" {
			return "Cannot restore devices: Vsock: " + e
		}
	}
	s.machine, s.vsock, s.ifaces = &st.Machine, st.Vsock, st.Ifaces
	if s.ifaces == nil {
		s.ifaces = map[string]networkInterface{}
	}
	for _, d := range st.Drives {
		s.drives[*d.DriveID] = d
		s.driveOrder = append(s.driveOrder, *d.DriveID)
	}
	s.kbd = keyboard{inited: st.KbdInited, readyAt: time.Now().Add(s.opts.KeyboardReady)}
	return ""
}
