package fakefc

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

const cad = `{"action_type":"SendCtrlAltDel"}`

// TestCtrlAltDelNeedsTheGuestKeyboard: before the guest's keyboard driver
// is up a press is answered 204 and lost; the fifth unread press fills the
// i8042 buffer (400); once the driver is up a press ends the process.
func TestCtrlAltDelNeedsTheGuestKeyboard(t *testing.T) {
	s, c, console := startServer(t, Options{KeyboardReady: 400 * time.Millisecond})
	c.boot()
	for i := 0; i < 4; i++ {
		c.mustPut("/actions", cad)
	}
	c.wantFault("/actions", cad, "i8042 internal buffer full")
	if exitedWithin(s, 600*time.Millisecond) {
		t.Fatal("process exited on presses sent before the guest keyboard was up")
	}
	c.mustPut("/actions", cad) // the driver flushed the early presses
	if !exitedWithin(s, 2*time.Second) || s.ExitCode() != 0 {
		t.Fatalf("no clean exit after a press the guest read (exited code %d)", s.ExitCode())
	}
	if !strings.Contains(console.String(), "reboot: Restarting system") {
		t.Errorf("console does not show the guest rebooting:\n%s", console.String())
	}
}

func TestCtrlAltDelWhilePausedWaitsForResume(t *testing.T) {
	s, c, _ := startServer(t, Options{})
	c.boot()
	c.must(http.MethodPatch, "/vm", `{"state":"Paused"}`)
	c.mustPut("/actions", cad)
	if exitedWithin(s, 300*time.Millisecond) {
		t.Fatal("paused guest handled Ctrl-Alt-Del")
	}
	c.must(http.MethodPatch, "/vm", `{"state":"Resumed"}`)
	if !exitedWithin(s, 2*time.Second) {
		t.Fatal("resumed guest did not handle the buffered Ctrl-Alt-Del")
	}
}

// TestGuestPowerOffHalts: `poweroff` in an x86 guest halts it; the process
// stays and Ctrl-Alt-Del is never read again.
func TestGuestPowerOffHalts(t *testing.T) {
	s, c, console := startServer(t, Options{PowerOffAfter: 50 * time.Millisecond})
	c.boot()
	time.Sleep(300 * time.Millisecond)
	if !strings.HasSuffix(strings.TrimSpace(console.String()), "reboot: System halted") {
		t.Fatalf("console does not end with the halt line:\n%s", console.String())
	}
	for i := 0; i < 4; i++ {
		c.mustPut("/actions", cad)
	}
	c.wantFault("/actions", cad, "buffer full")
	if exitedWithin(s, 300*time.Millisecond) || s.State() != StateRunning {
		t.Fatalf("halted guest: exited or state %s; firecracker keeps running", s.State())
	}
}

func TestPatchVM(t *testing.T) {
	s, c, _ := startServer(t, Options{})
	c.wantFaultMethod(http.MethodPatch, "/vm", `{"state":"Paused"}`, "before starting")
	c.boot()
	c.wantFaultMethod(http.MethodPatch, "/vm", `{"state":"Stopped"}`, "unknown variant `Stopped`, expected `Paused` or `Resumed`")
	c.wantFaultMethod(http.MethodPatch, "/vm", `{}`, "missing field `state`")
	c.wantFaultMethod(http.MethodPatch, "/vm", `{"state":"Paused","x":1}`, "unknown field")
	c.must(http.MethodPatch, "/vm", `{"state":"Paused"}`)
	if s.State() != StatePaused {
		t.Errorf("state %s after pause", s.State())
	}
	c.must(http.MethodPatch, "/vm", `{"state":"Paused"}`) // as firecracker: no error
	c.must(http.MethodPatch, "/vm", `{"state":"Resumed"}`)
	if s.State() != StateRunning {
		t.Errorf("state %s after resume", s.State())
	}
}

func TestSnapshotCreate(t *testing.T) {
	_, c, _ := startServer(t, Options{})
	body := `{"snapshot_path":"` + c.p("vm.snap") + `","mem_file_path":"` + c.p("vm.mem") + `"}`
	c.wantFault("/snapshot/create", body, "before starting")
	c.boot()
	c.wantFault("/snapshot/create", body, "save/restore unavailable while running")
	c.must(http.MethodPatch, "/vm", `{"state":"Paused"}`)
	c.wantFault("/snapshot/create", `{"snapshot_path":"`+c.p("vm.snap")+`"}`, "missing field `mem_file_path`")
	c.wantFault("/snapshot/create", `{"snapshot_path":"a","mem_file_path":"b","snapshot_type":"Half"}`, "unknown variant `Half`")
	c.wantFault("/snapshot/create", `{"snapshot_path":"a","mem_file_path":"b","resume":true}`, "unknown field")
	c.wantFault("/snapshot/create", `{"snapshot_path":"`+c.p("no/dir.snap")+`","mem_file_path":"`+c.p("m")+`"}`, "No such file or directory")
	c.wantFault("/snapshot/nonsense", `{}`, "Invalid request")
	c.mustPut("/snapshot/create", body) // firecracker creates both files
	if fi, err := os.Stat(c.p("vm.mem")); err != nil || fi.Size() != 4<<20 {
		t.Errorf("memory file: %v, %v; want the guest's 4 MiB", fi, err)
	}
	c.mustPut("/snapshot/create", `{"snapshot_type":"Diff","snapshot_path":"`+c.p("d.snap")+`","mem_file_path":"`+c.p("d.mem")+`"}`)
}

// snapshotFiles boots a guest with a vsock device and (where a tap can
// be had) a network interface, pauses it, saves it and ends the process
// (releasing the tap, as Suspend does).
func snapshotFiles(t *testing.T) (snap, mem, vsockPath string) {
	s, c, _ := startServer(t, Options{})
	c.mustPut("/vsock", `{"guest_cid":3,"uds_path":"`+c.p("v.sock")+`"}`)
	if tap := tapOrNone(t); tap != "" {
		c.mustPut("/network-interfaces/eth0", `{"iface_id":"eth0","host_dev_name":"`+tap+`"}`)
	}
	c.boot()
	c.must(http.MethodPatch, "/vm", `{"state":"Paused"}`)
	snap, mem = c.p("vm.snap"), c.p("vm.mem")
	c.mustPut("/snapshot/create", `{"snapshot_path":"`+snap+`","mem_file_path":"`+mem+`"}`)
	s.Close()
	os.WriteFile(c.p("v.sock"), nil, 0o600) // a dead process leaves its socket file
	return snap, mem, c.p("v.sock")
}

func TestSnapshotLoadShapesAndOrdering(t *testing.T) {
	snap, mem, _ := snapshotFiles(t)
	_, c, _ := startServer(t, Options{})
	c.wantFault("/snapshot/load", `{"mem_file_path":"`+mem+`"}`, "missing field `snapshot_path`")
	c.wantFault("/snapshot/load", `{"snapshot_path":"`+snap+`"}`, "either `mem_backend` or `mem_file_path` is required")
	c.wantFault("/snapshot/load", `{"snapshot_path":"`+snap+`","mem_file_path":"`+mem+`","mem_backend":{"backend_type":"File","backend_path":"`+mem+`"}}`, "exclusively")
	c.wantFault("/snapshot/load", `{"snapshot_path":"`+snap+`","mem_backend":{"backend_path":"`+mem+`"}}`, "missing field `backend_type`")
	c.wantFault("/snapshot/load", `{"snapshot_path":"`+snap+`","mem_backend":{"backend_type":"Disk","backend_path":"`+mem+`"}}`, "unknown variant `Disk`")
	c.wantFault("/snapshot/load", `{"snapshot_path":"`+snap+`","mem_backend":{"backend_type":"File","backend_path":"`+mem+`","x":1}}`, "unknown field")
	c.wantFault("/snapshot/load", `{"snapshot_path":"`+snap+`","mem_file_path":"`+mem+`","resume":true}`, "unknown field")
	c.wantFault("/snapshot/load", `{"snapshot_path":"`+snap+`","mem_backend":{"backend_type":"Uffd","backend_path":"/x.sock"}}`, "Uffd")
	// Logger and metrics may precede a load; boot resources may not.
	c.mustPut("/logger", `{"level":"Info"}`)
	c.mustPut("/metrics", `{"metrics_path":"`+c.p("m")+`"}`)
	c.mustPut("/machine-config", `{"vcpu_count":1,"mem_size_mib":4}`)
	c.wantFault("/snapshot/load", `{"snapshot_path":"`+snap+`","mem_file_path":"`+mem+`"}`, "not allowed after configuring boot-specific resources")

	_, c2, _ := startServer(t, Options{})
	c2.boot()
	c2.wantFault("/snapshot/load", `{"snapshot_path":"`+snap+`","mem_file_path":"`+mem+`"}`, "not supported after starting")
}

func TestSnapshotLoadRestores(t *testing.T) {
	snap, mem, vsockPath := snapshotFiles(t)
	// The vsock socket of the old process is still there: without an
	// override the restore cannot bind it, and a failed restore ends the
	// process.
	s, c, _ := startServer(t, Options{})
	c.wantFault("/snapshot/load", `{"snapshot_path":"`+snap+`","mem_file_path":"`+mem+`"}`, "Address already in use")
	if !exitedWithin(s, 2*time.Second) || s.ExitCode() == 0 {
		t.Fatalf("failed restore: exited code %d; want the process to end with an error", s.ExitCode())
	}
	os.Remove(vsockPath)

	s, c, _ = startServer(t, Options{})
	overrides := ""
	if tap := tapOrNone(t); tap != "" {
		overrides = `"network_overrides":[{"iface_id":"eth0","host_dev_name":"` + tap + `"}],`
	}
	c.mustPut("/snapshot/load", `{"snapshot_path":"`+snap+`","mem_backend":{"backend_type":"File","backend_path":"`+mem+`"},`+overrides+`"vsock_override":{"uds_path":"`+c.p("new.sock")+`"}}`)
	if s.State() != StatePaused {
		t.Errorf("state %s after load without resume_vm, want Paused", s.State())
	}
	c.wantFault("/actions", `{"action_type":"InstanceStart"}`, "after starting")
	c.must(http.MethodPatch, "/vm", `{"state":"Resumed"}`)
	c.mustPut("/actions", cad) // the restored guest's keyboard was already up
	if !exitedWithin(s, 2*time.Second) || s.ExitCode() != 0 {
		t.Fatal("restored guest did not reboot on Ctrl-Alt-Del")
	}

	s, c, _ = startServer(t, Options{})
	c.mustPut("/snapshot/load", `{"snapshot_path":"`+snap+`","mem_file_path":"`+mem+`","resume_vm":true,"vsock_override":{"uds_path":"`+c.p("n.sock")+`"}}`)
	if s.State() != StateRunning {
		t.Errorf("state %s after load with resume_vm, want Running", s.State())
	}

	s, c, _ = startServer(t, Options{})
	os.WriteFile(c.p("junk.snap"), []byte("junk"), 0o600)
	c.wantFault("/snapshot/load", `{"snapshot_path":"`+c.p("junk.snap")+`","mem_file_path":"`+mem+`"}`, "Failed to restore from snapshot")
	if !exitedWithin(s, 2*time.Second) {
		t.Error("process survived a failed restore")
	}
}
