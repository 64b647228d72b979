package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/vishvananda/netlink"
)

// Tap creates a persistent tap device as banger creates them (one queue,
// no packet information, virtio-net header) owned by owner and group, not
// attached to anything, and deletes it when t ends. It skips t when the
// process is not root or under -short.
func Tap(t testing.TB, owner, group int) string {
	t.Helper()
	RequireRoot(t, "creates tap devices")
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "bgt" + hex.EncodeToString(b)
	tap := &netlink.Tuntap{
		LinkAttrs: netlink.LinkAttrs{Name: name},
		Mode:      netlink.TUNTAP_MODE_TAP,
		Flags:     netlink.TUNTAP_NO_PI | netlink.TUNTAP_VNET_HDR,
		Owner:     uint32(owner),
		Group:     uint32(group),
	}
	if err := netlink.LinkAdd(tap); err != nil {
		t.Fatalf("create tap %s: %v", name, err)
	}
	t.Cleanup(func() {
		if l, err := netlink.LinkByName(name); err == nil {
			_ = netlink.LinkDel(l)
		}
	})
	return name
}
