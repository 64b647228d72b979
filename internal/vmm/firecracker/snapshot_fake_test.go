package firecracker

import (
	"testing"

	"github.com/vishvananda/netlink"
)

// TestSuspendAndResumeThroughFakeFirecracker runs the shared suspend and
// resume test (checkSuspendResume) against fakefc, which enforces
// firecracker's ordering: pause before /snapshot/create, load only on a
// fresh process, the tap opened at load.
func TestSuspendAndResumeThroughFakeFirecracker(t *testing.T) {
	checkSuspendResume(t, fakeTarget(t))
}

// deleteTap removes a tap made by testNet before its test ends.
func deleteTap(name string) {
	if l, err := netlink.LinkByName(name); err == nil {
		_ = netlink.LinkDel(l)
	}
}
