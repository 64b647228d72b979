package system

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// Linux capability numbers granted to the helper.
const (
	capNetBindService = 10
	capNetAdmin       = 12
)

// capXattr is the security.capability value (VFS_CAP_REVISION_2, effective)
// granting CAP_NET_ADMIN and CAP_NET_BIND_SERVICE as permitted and
// effective: what `setcap cap_net_admin,cap_net_bind_service+ep` writes.
func capXattr() []byte {
	const revision2, effective = 0x02000000, 0x000001
	b := make([]byte, 20)
	binary.LittleEndian.PutUint32(b[0:], revision2|effective)
	binary.LittleEndian.PutUint32(b[4:], 1<<capNetAdmin|1<<capNetBindService) // permitted, low word
	// inheritable low word, permitted and inheritable high words stay 0.
	return b
}

// grantCaps gives path the helper's file capabilities.
func grantCaps(path string) error {
	if err := unix.Setxattr(path, "security.capability", capXattr(), 0); err != nil {
		return fmt.Errorf("grant capabilities to %s: %w: the filesystem must support security xattrs", path, err)
	}
	return nil
}

// HasCaps reports whether path carries exactly the helper's capabilities.
func HasCaps(path string) bool {
	buf := make([]byte, 64)
	n, err := unix.Getxattr(path, "security.capability", buf)
	return err == nil && string(buf[:n]) == string(capXattr())
}
