package fakefc

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// openDrive opens a drive's backing file as firecracker does: read-only
// when is_read_only, else read-write, so a file the process may not write
// is refused even if it could read it.
func openDrive(path string, readOnly bool) string {
	flag := os.O_RDWR
	if readOnly {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return "Virtio backend error: Error manipulating the backing file: " + errnoText(err) + " " + path
	}
	f.Close()
	return ""
}

// Tap flags firecracker opens a tap with (linux/if_tun.h).
const (
	iffTap     = 0x0002
	iffNoPI    = 0x1000
	iffVnetHdr = 0x4000
	tunSetIff  = 0x400454ca
)

// openTap attaches to the tap name as firecracker does (open /dev/net/tun,
// TUNSETIFF with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR) and returns the open
// device, which stays attached (busy for anyone else) until closed.
//
// The kernel lets a process with CAP_NET_ADMIN create a missing tap and
// use anyone's; banger runs firecracker without capabilities, so the fake
// answers as firecracker does there, even when run as root: a missing tap
// is EPERM (creating one needs CAP_NET_ADMIN), and so is a tap whose owner
// or group (set with TUNSETOWNER/TUNSETGROUP) is not the process's. A tap
// another process holds is EBUSY from the kernel itself.
func openTap(name string) (*os.File, string) {
	fail := func(err error) (*os.File, string) {
		return nil, fmt.Sprintf("Could not create the network device: Open tap device failed: Error while creating ifreq structure: %s. Invalid TUN/TAP Backend provided by %s. Check our documentation on setting up the network devices.", errnoText(err), name)
	}
	if len(name) == 0 || len(name) >= syscall.IFNAMSIZ {
		return nil, "Could not create the network device: Open tap device failed: Invalid interface name"
	}
	if _, err := os.Stat("/sys/class/net/" + name); err != nil {
		return fail(syscall.EPERM)
	}
	if !tapAllowed(name) {
		return fail(syscall.EPERM)
	}
	f, err := os.OpenFile("/dev/net/tun", os.O_RDWR|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, "Could not create the network device: Open tap device failed: Couldn't open /dev/net/tun: " + errnoText(err)
	}
	var req struct {
		name  [syscall.IFNAMSIZ]byte
		flags uint16
		_     [22]byte
	}
	copy(req.name[:], name)
	req.flags = iffTap | iffNoPI | iffVnetHdr
	if _, _, en := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), tunSetIff, uintptr(unsafe.Pointer(&req))); en != 0 {
		f.Close()
		return fail(en)
	}
	return f, ""
}

// tapAllowed is the kernel's tun_not_capable check for a process without
// CAP_NET_ADMIN: an owner, when set, must be the effective uid, and a
// group, when set, one of the process's groups.
func tapAllowed(name string) bool {
	owner, group := sysfsID(name, "owner"), sysfsID(name, "group")
	if owner >= 0 && owner != os.Geteuid() {
		return false
	}
	if group < 0 || group == os.Getegid() {
		return true
	}
	groups, _ := os.Getgroups()
	for _, g := range groups {
		if g == group {
			return true
		}
	}
	return false
}

// sysfsID reads /sys/class/net/NAME/{owner,group}: -1 when unset.
func sysfsID(name, what string) int {
	b, err := os.ReadFile("/sys/class/net/" + name + "/" + what)
	if err != nil {
		return -1
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1
	}
	return v
}
