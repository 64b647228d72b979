package network

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// tunDevice is the tap multiplexer taps are created through.
const tunDevice = "/dev/net/tun"

// NoOwner is LinkInfo.Owner for a tap no uid owns (`ip tuntap add` without
// `user`): any account that can open /dev/net/tun may attach to it.
const NoOwner = -1

// errTapExists is what an exclusive tap creation returns for a taken name.
var errTapExists = errors.New("a link of that name already exists")

// LinkInfo is what the kernel reports about one link, read from a single
// netlink answer so that index, kind, owner and master belong together:
// banger decides on these facts and then acts on Index, never on the name
// again (the name may be taken over in between; the index cannot).
type LinkInfo struct {
	// Index is the interface index.
	Index int
	// Kind is the rtnetlink kind ("tun" for taps, "bridge", ...; "" for
	// physical devices).
	Kind string
	// Tap is true for a tun/tap device in tap (Ethernet) mode.
	Tap bool
	// Owner is the uid that owns a tap, or NoOwner.
	Owner int64
	// Master is the index of the bridge the link is attached to, 0 when none.
	Master int
}

// ReadLink returns the facts of the link called name, or ErrNotFound.
func ReadLink(name string) (LinkInfo, error) {
	req := nl.NewNetlinkRequest(unix.RTM_GETLINK, unix.NLM_F_ACK)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWLINK)
	if errors.Is(err, unix.ENODEV) {
		return LinkInfo{}, fmt.Errorf("%s: %w", name, ErrNotFound)
	}
	if err != nil {
		return LinkInfo{}, fmt.Errorf("look up link %s: %w", name, err)
	}
	if len(msgs) != 1 {
		return LinkInfo{}, fmt.Errorf("look up link %s: %d answers", name, len(msgs))
	}
	return parseLinkInfo(msgs[0])
}

// parseLinkInfo decodes one RTM_NEWLINK message.
func parseLinkInfo(m []byte) (LinkInfo, error) {
	ifi := nl.DeserializeIfInfomsg(m)
	info := LinkInfo{Index: int(ifi.Index), Owner: NoOwner}
	attrs, err := nl.ParseRouteAttr(m[ifi.Len():])
	if err != nil {
		return LinkInfo{}, fmt.Errorf("parse link %d: %w", ifi.Index, err)
	}
	for _, a := range attrs {
		switch a.Attr.Type {
		case unix.IFLA_MASTER:
			info.Master = int(nl.NativeEndian().Uint32(a.Value))
		case unix.IFLA_LINKINFO:
			nested, err := nl.ParseRouteAttr(a.Value)
			if err != nil {
				return LinkInfo{}, err
			}
			parseKindData(&info, nested)
		}
	}
	return info, nil
}

// parseKindData fills kind, mode and owner from IFLA_LINKINFO's attributes.
func parseKindData(info *LinkInfo, attrs []syscall.NetlinkRouteAttr) {
	for _, a := range attrs {
		switch a.Attr.Type {
		case nl.IFLA_INFO_KIND:
			info.Kind = strings.TrimRight(string(a.Value), "\x00")
		case nl.IFLA_INFO_DATA:
			if info.Kind != "tun" {
				continue
			}
			data, err := nl.ParseRouteAttr(a.Value)
			if err != nil {
				continue
			}
			for _, d := range data {
				switch d.Attr.Type {
				case nl.IFLA_TUN_OWNER:
					info.Owner = int64(nl.NativeEndian().Uint32(d.Value))
				case nl.IFLA_TUN_TYPE:
					info.Tap = len(d.Value) > 0 && d.Value[0] == unix.IFF_TAP
				}
			}
		}
	}
}

// createTapExclusive creates a persistent single-queue tap called name,
// owned by owner and group, and fails with errTapExists when any link of
// that name exists: the kernel checks and creates under one lock
// (IFF_TUN_EXCL), so an existing tap is never taken over. Until the last
// step the tap is not persistent, so any failure leaves nothing behind.
func createTapExclusive(name string, owner, group uint32) error {
	fd, err := unix.Open(tunDevice, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w: check that it exists (modprobe tun) and that this account may open it ('sudo banger system install --user $USER')", tunDevice, err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	// No IFF_MULTI_QUEUE: firecracker and qemu open one queue.
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI | unix.IFF_VNET_HDR | unix.IFF_TUN_EXCL)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		if errors.Is(err, unix.EBUSY) {
			return errTapExists
		}
		return fmt.Errorf("TUNSETIFF: %w", err)
	}
	for _, step := range []struct {
		req uint
		val int
		op  string
	}{{unix.TUNSETOWNER, int(owner), "set owner"}, {unix.TUNSETGROUP, int(group), "set group"}, {unix.TUNSETPERSIST, 1, "make persistent"}} {
		if err := unix.IoctlSetInt(fd, step.req, step.val); err != nil {
			return fmt.Errorf("%s: %w", step.op, err)
		}
	}
	return nil
}

// deleteIndex removes the link with index idx (never looked up by name).
func deleteIndex(idx int) error {
	return netlink.LinkDel(&netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Index: idx}})
}

// CountTaps returns how many taps uid owns on this host.
func CountTaps(uid int) (int, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return 0, fmt.Errorf("list links: %w", err)
	}
	n := 0
	for _, l := range links {
		if t, ok := l.(*netlink.Tuntap); ok && uid != 0 && t.Owner == uint32(uid) {
			n++
		}
	}
	return n, nil
}

// RemoveTapPorts deletes every tap attached to bridge, whoever owns it,
// by index; root's uninstall uses it for an account it removes. It
// returns how many it removed.
func RemoveTapPorts(bridge string) (int, error) {
	br, err := ReadLink(bridge)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	links, err := netlink.LinkList()
	if err != nil {
		return 0, fmt.Errorf("list links: %w", err)
	}
	n := 0
	for _, l := range links {
		if _, ok := l.(*netlink.Tuntap); ok && l.Attrs().MasterIndex == br.Index {
			if err := deleteIndex(l.Attrs().Index); err != nil {
				return n, fmt.Errorf("delete tap %s: %w", l.Attrs().Name, err)
			}
			n++
		}
	}
	return n, nil
}

// ownerString names a tap owner for messages.
func ownerString(owner int64) string {
	if owner == NoOwner {
		return "no owner (any account may attach to it)"
	}
	return "uid " + strconv.FormatInt(owner, 10)
}
