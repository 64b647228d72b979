package paths

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// sbinDirs hold the system tools banger runs (mkfs.ext4, e2fsck, iptables,
// ip): an ordinary Debian account's PATH lacks them.
var sbinDirs = []string{"/usr/local/sbin", "/usr/sbin", "/sbin"}

// EnsureSbinInPath appends the sbin directories missing from PATH, so
// tools are found by name whoever runs banger. It returns the new PATH.
func EnsureSbinInPath() string {
	cur := filepath.SplitList(os.Getenv("PATH"))
	for _, d := range sbinDirs {
		if !slices.Contains(cur, d) {
			cur = append(cur, d)
		}
	}
	p := strings.Join(cur, string(os.PathListSeparator))
	os.Setenv("PATH", p)
	return p
}
