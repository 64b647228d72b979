package system

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"

	"golang.org/x/sys/unix"
)

// POSIX ACL xattr layout (linux/posix_acl_xattr.h).
const (
	aclXattr     = "system.posix_acl_access"
	aclVersion   = 2
	aclUserObj   = 0x01
	aclUser      = 0x02
	aclGroupObj  = 0x04
	aclGroup     = 0x08
	aclMask      = 0x10
	aclOther     = 0x20
	aclUndefined = 0xFFFFFFFF
)

// aclEntry is one entry of an access ACL.
type aclEntry struct {
	tag, perm uint16
	id        uint32
}

// readACL returns path's access ACL, or the one its mode implies.
func readACL(path string) ([]aclEntry, error) {
	buf := make([]byte, 1024)
	n, err := unix.Getxattr(path, aclXattr, buf)
	if errors.Is(err, unix.ENODATA) {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		m := uint16(fi.Mode().Perm())
		return []aclEntry{{aclUserObj, m >> 6 & 7, aclUndefined}, {aclGroupObj, m >> 3 & 7, aclUndefined}, {aclOther, m & 7, aclUndefined}}, nil
	}
	if err != nil {
		return nil, err
	}
	if n < 4 || binary.LittleEndian.Uint32(buf) != aclVersion || (n-4)%8 != 0 {
		return nil, fmt.Errorf("unreadable ACL on %s", path)
	}
	var out []aclEntry
	for b := buf[4:n]; len(b) >= 8; b = b[8:] {
		out = append(out, aclEntry{binary.LittleEndian.Uint16(b), binary.LittleEndian.Uint16(b[2:]), binary.LittleEndian.Uint32(b[4:])})
	}
	return out, nil
}

// writeACL sets path's access ACL to es (sorted as the kernel wants; the
// mask is recomputed when named entries exist and dropped otherwise).
func writeACL(path string, es []aclEntry) error {
	es = slices.DeleteFunc(slices.Clone(es), func(e aclEntry) bool { return e.tag == aclMask })
	var mask uint16
	named := false
	for _, e := range es {
		if e.tag == aclUser || e.tag == aclGroup || e.tag == aclGroupObj {
			mask |= e.perm
		}
		named = named || e.tag == aclUser || e.tag == aclGroup
	}
	if named {
		es = append(es, aclEntry{aclMask, mask, aclUndefined})
	}
	sort.Slice(es, func(i, j int) bool {
		if es[i].tag != es[j].tag {
			return es[i].tag < es[j].tag
		}
		return es[i].id < es[j].id
	})
	b := binary.LittleEndian.AppendUint32(nil, aclVersion)
	for _, e := range es {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.perm)
		b = binary.LittleEndian.AppendUint32(b, e.id)
	}
	return unix.Setxattr(path, aclXattr, b, 0)
}

// othersMayOpen reports whether every account may already open path
// read-write (the distribution default for /dev/net/tun is 0666).
func othersMayOpen(path string) (bool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return fi.Mode().Perm()&0o006 == 0o006, nil
}

// grantDevice gives uid read-write access to path through a named ACL
// entry, leaving owner, group, mode and other entries as they are.
func grantDevice(path string, uid int) error {
	es, err := readACL(path)
	if err != nil {
		return err
	}
	es = slices.DeleteFunc(es, func(e aclEntry) bool { return e.tag == aclUser && e.id == uint32(uid) })
	es = append(es, aclEntry{aclUser, 6, uint32(uid)})
	if err := writeACL(path, es); err != nil {
		return fmt.Errorf("give uid %d access to %s: %w: the filesystem must support POSIX ACLs (devtmpfs does)", uid, path, err)
	}
	return nil
}

// revokeDevice removes uid's named ACL entry from path.
func revokeDevice(path string, uid int) error {
	es, err := readACL(path)
	if err != nil {
		return err
	}
	kept := slices.DeleteFunc(slices.Clone(es), func(e aclEntry) bool { return e.tag == aclUser && e.id == uint32(uid) })
	if len(kept) == len(es) {
		return nil
	}
	return writeACL(path, kept)
}

// deviceUsers returns the uids with a named ACL entry on path.
func deviceUsers(path string) []int {
	es, err := readACL(path)
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range es {
		if e.tag == aclUser {
			out = append(out, int(e.id))
		}
	}
	return out
}
