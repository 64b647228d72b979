package fakefc

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bangerdev/banger/internal/testenv"
)

// TestFlagsAsFirecrackerParsesThem: firecracker's arg_parser takes
// "--flag value" only, each flag once, and no value that starts with
// "--"; --version wins over everything. The driver's command line passes.
func TestFlagsAsFirecrackerParsesThem(t *testing.T) {
	driver := []string{"--api-sock", "/run/x.sock", "--log-path", "/run/x.log", "--level", "Warning", "--show-level"}
	if f, err := parseFlags(driver); err != nil || f.apiSock != "/run/x.sock" || f.level != "Warning" {
		t.Fatalf("the driver's command line: %+v, %v", f, err)
	}
	bad := []struct {
		args []string
		want string
	}{
		{[]string{"--api-sock=/run/x.sock"}, "Found argument 'api-sock=/run/x.sock' which wasn't expected"},
		{[]string{"--api-sock", "/a", "--api-sock", "/b"}, "The argument 'api-sock' was provided more than once."},
		{[]string{"--api-sock", "/a", "--show-level", "--show-level"}, "'show-level' was provided more than once"},
		{[]string{"--api-sock", "--level", "Info"}, "The argument 'api-sock' requires a value, but none was supplied"},
		{[]string{"--api-sock", "/a", "stray"}, "Found argument 'stray'"},
		{[]string{"-api-sock", "/a"}, "Found argument '-api-sock'"},
		{[]string{"--api-sock", "/a", "--config-file", "/c.json"}, "Found argument 'config-file'"},
	}
	for _, b := range bad {
		_, err := parseFlags(b.args)
		if err == nil || !strings.Contains(err.Error(), b.want) || !strings.HasPrefix(err.Error(), "Arguments parsing error: ") {
			t.Errorf("%q: %v; want %q", b.args, err, b.want)
		}
	}
	if f, err := parseFlags([]string{"--api-sock=x", "--version"}); err != nil || !f.version {
		t.Errorf("--version with other flags: %+v, %v; firecracker prints its version first", f, err)
	}
}

// TestJSONKeysExactAndOnce: serde matches field names exactly and refuses
// a repeated one; Go's decoder alone would take "Vcpu_Count" for
// vcpu_count and keep the last of two. The driver's bodies (lower-case
// keys, each once) pass.
func TestJSONKeysExactAndOnce(t *testing.T) {
	_, c, _ := startServer(t, Options{})
	c.wantFault("/machine-config", `{"Vcpu_Count":2,"mem_size_mib":128}`, "unknown field `Vcpu_Count`, expected one of `vcpu_count`")
	c.wantFault("/machine-config", `{"vcpu_count":2,"vcpu_count":3,"mem_size_mib":128}`, "duplicate field `vcpu_count`")
	c.wantFault("/boot-source", `{"KERNEL_IMAGE_PATH":"`+c.p("vmlinux")+`"}`, "unknown field `KERNEL_IMAGE_PATH`")
	c.wantFault("/actions", `{"action_type":"FlushMetrics","action_type":"InstanceStart"}`, "duplicate field `action_type`")
	snapLoad := `{"snapshot_path":"` + c.p("s") + `","mem_backend":{"Backend_Type":"File","backend_path":"` + c.p("m") + `"}}`
	c.wantFault("/snapshot/load", snapLoad, "unknown field `Backend_Type`")
	c.wantFault("/snapshot/load", `{"snapshot_path":"`+c.p("s")+`","mem_file_path":"`+c.p("m")+`","network_overrides":[{"iface_id":"eth0","Host_Dev_Name":"t"}]}`, "unknown field `Host_Dev_Name`")
	c.mustPut("/machine-config", `{"vcpu_count":2,"mem_size_mib":128}`)
}

// TestGuestMACIsSixHexPairs: firecracker's MacAddr takes six
// ':'-separated pairs of hex digits and nothing else Go's net.ParseMAC
// would take.
func TestGuestMACIsSixHexPairs(t *testing.T) {
	_, c, _ := startServer(t, Options{})
	for _, mac := range []string{"06-00-ac-10-00-02", "0600.ac10.0002", "6:0:ac:10:0:2", "06:00:ac:10:00:02:03", "06:00:ac:10:00:0g", ""} {
		c.wantFault("/network-interfaces/eth0", `{"iface_id":"eth0","host_dev_name":"tap0","guest_mac":"`+mac+`"}`, "The provided MAC address is invalid.")
	}
	for _, mac := range []string{"06:00:ac:10:00:02", "06:00:AC:10:00:02"} {
		if !validMAC(mac) {
			t.Errorf("%s refused", mac)
		}
	}
}

// unwritable makes path readable but not writable by this process: mode
// 0444 for a normal user, the immutable attribute for root (who ignores
// modes). It skips t where neither works.
func unwritable(t *testing.T, path string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(path, 0o444); err != nil {
			t.Fatal(err)
		}
		return
	}
	if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
		t.Skipf("cannot make %s immutable: %v %s", path, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", path).Run() })
}

// TestDriveOpenedReadWriteUnlessReadOnly: firecracker opens a drive
// read-write when is_read_only is false, so a file the VMM may read but
// not write is refused at PUT /drives, with the OS error; read-only it
// is fine. The driver's writable drives pass (TestLifecycleOrdering).
func TestDriveOpenedReadWriteUnlessReadOnly(t *testing.T) {
	_, c, _ := startServer(t, Options{})
	disk := c.p("ro.ext4")
	if err := os.WriteFile(disk, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	unwritable(t, disk)
	c.wantFault("/drives/work", `{"drive_id":"work","path_on_host":"`+disk+`","is_root_device":false,"is_read_only":false}`, "Drive config error: Unable to create the virtio block device: Virtio backend error: Error manipulating the backing file: ")
	st, msg := c.do("PUT", "/drives/work", `{"drive_id":"work","path_on_host":"`+disk+`","is_root_device":false,"is_read_only":false}`)
	if st != 400 || !(strings.Contains(msg, "Permission denied (os error 13)") || strings.Contains(msg, "Operation not permitted (os error 1)")) {
		t.Errorf("read-write open of an unwritable drive: %d %q; want the OS error", st, msg)
	}
	c.mustPut("/drives/work", `{"drive_id":"work","path_on_host":"`+disk+`","is_root_device":false,"is_read_only":true}`)
}

// TestTapMustBeUsable: firecracker opens the tap at PUT
// /network-interfaces (and at snapshot load); without CAP_NET_ADMIN, as
// banger runs it, a missing tap or one owned by another user is EPERM, and
// one another process holds is EBUSY. The driver's own tap passes.
func TestTapMustBeUsable(t *testing.T) {
	own := testenv.Tap(t, os.Geteuid(), os.Getegid())
	other := testenv.Tap(t, 65534, 65534)
	s1, c1, _ := startServer(t, Options{})
	iface := func(tap string) string { return `{"iface_id":"eth0","host_dev_name":"` + tap + `"}` }
	c1.mustPut("/network-interfaces/eth0", iface(own))
	_, c2, _ := startServer(t, Options{})
	c2.wantFault("/network-interfaces/eth0", iface(own), "Network config error: Could not create the network device: Open tap device failed: Error while creating ifreq structure: Device or resource busy (os error 16). Invalid TUN/TAP Backend provided by "+own)
	c2.wantFault("/network-interfaces/eth0", iface("bgtnosuchtap"), "Operation not permitted (os error 1). Invalid TUN/TAP Backend provided by bgtnosuchtap")
	if _, err := os.Stat("/sys/class/net/bgtnosuchtap"); err == nil {
		t.Error("the fake created the missing tap")
	}
	c2.wantFault("/network-interfaces/eth0", iface(other), "Operation not permitted (os error 1)")
	s1.Close() // the first process ends: its tap is free
	c2.mustPut("/network-interfaces/eth0", iface(own))
}

// TestSnapshotLoadOpensTheTap: a load attaches the snapshot's tap (or
// its override) like a boot does; a missing one fails the restore, which
// ends the process.
func TestSnapshotLoadOpensTheTap(t *testing.T) {
	testenv.RequireRoot(t, "creates tap devices")
	snap, mem, vsockPath := snapshotFiles(t)
	os.Remove(vsockPath)
	s, c, _ := startServer(t, Options{})
	c.wantFault("/snapshot/load", `{"snapshot_path":"`+snap+`","mem_file_path":"`+mem+`","network_overrides":[{"iface_id":"eth0","host_dev_name":"bgtgone"}]}`, "Net: Could not create the network device")
	if !exitedWithin(s, 2*time.Second) || s.ExitCode() != 1 {
		t.Fatal("a restore that could not open its tap did not end the process")
	}
	tap := testenv.Tap(t, os.Geteuid(), os.Getegid())
	os.Remove(vsockPath)
	_, c, _ = startServer(t, Options{})
	c.mustPut("/snapshot/load", `{"snapshot_path":"`+snap+`","mem_file_path":"`+mem+`","network_overrides":[{"iface_id":"eth0","host_dev_name":"`+tap+`"}]}`)
}

// elfKernel returns TestKernel with the header changed by mut.
func elfKernel(mut func(*elf.Header64)) []byte {
	k := TestKernel()
	var h elf.Header64
	_ = binary.Read(bytes.NewReader(k), binary.LittleEndian, &h)
	mut(&h)
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, h)
	copy(k, b.Bytes())
	return k
}

// TestKernelMustBeA64BitX86ELF: x86_64 firecracker v1.16 loads only an
// ELF vmlinux, checked when InstanceStart loads it (PUT /boot-source only
// opens the file). The driver's kernel (TestKernel, the bundle's vmlinux)
// passes.
func TestKernelMustBeA64BitX86ELF(t *testing.T) {
	bzImage := make([]byte, 0x400)
	copy(bzImage[0x202:], "HdrS")
	cases := []struct {
		name   string
		kernel []byte
		why    string
	}{
		{"bzImage", bzImage, "Invalid Elf magic number"},
		{"empty", nil, "Invalid Elf magic number"},
		{"32-bit", elfKernel(func(h *elf.Header64) { h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS32) }), "Invalid program header size"},
		{"big-endian", elfKernel(func(h *elf.Header64) { h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2MSB) }), "big-endian"},
		{"low entry", elfKernel(func(h *elf.Header64) { h.Entry = 0x1000 }), "Invalid entry address"},
		{"aarch64", elfKernel(func(h *elf.Header64) { h.Machine = uint16(elf.EM_AARCH64) }), "EM_AARCH64, not x86_64"},
		{"truncated", TestKernel()[:0x800], "Unable to read kernel image"},
	}
	for _, k := range cases {
		log := &lockedBuffer{}
		_, c, _ := startServer(t, Options{Log: log})
		if err := os.WriteFile(c.p("vmlinux"), k.kernel, 0o600); err != nil {
			t.Fatal(err)
		}
		c.mustPut("/boot-source", `{"kernel_image_path":"`+c.p("vmlinux")+`"}`)
		c.mustPut("/drives/rootfs", `{"drive_id":"rootfs","path_on_host":"`+c.p("rootfs.ext4")+`","is_root_device":true,"is_read_only":false}`)
		st, msg := c.do("PUT", "/actions", `{"action_type":"InstanceStart"}`)
		if st != 400 || msg != faultKernelLoad {
			t.Errorf("%s kernel: %d %q; want firecracker's %q", k.name, st, msg, faultKernelLoad)
		}
		if !strings.Contains(log.String(), k.why) {
			t.Errorf("%s kernel: log %q lacks the loader's reason %q", k.name, log.String(), k.why)
		}
	}
}
