package bundlebuild

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
)

// BasePackages are always installed into the root filesystem, in addition
// to the package list: what the guest contract and a distro kernel's initrd
// need.
var BasePackages = []string{
	"systemd", "systemd-sysv", "udev", "openssh-server", "iproute2",
	"ca-certificates", "sudo", "dbus", "kmod", "initramfs-tools",
}

// PackageList is a parsed packages.apt file.
type PackageList struct {
	// Names are the packages, in file order, without duplicates.
	Names []string
	// SHA256 is the hex SHA-256 of the file content (the packages.sha256
	// stamp).
	SHA256 string
	// Raw is the file content.
	Raw []byte
}

// ReadPackages parses a package list: one name per line, '#' comments and
// blank lines ignored.
func ReadPackages(path string) (*PackageList, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read package list: %w: pass the packages.apt of the banger checkout", err)
	}
	pl := &PackageList{Raw: raw}
	sum := sha256.Sum256(raw)
	pl.SHA256 = hex.EncodeToString(sum[:])
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.ContainsAny(line, " \t,") || strings.HasPrefix(line, "-") {
			return nil, fmt.Errorf("%s:%d: %q is not a package name: put one package per line", path, n, line)
		}
		if !seen[line] {
			seen[line] = true
			pl.Names = append(pl.Names, line)
		}
	}
	return pl, nil
}

// includes is the debootstrap --include list: base packages then the list.
func (pl *PackageList) includes() []string {
	out := append([]string(nil), BasePackages...)
	seen := map[string]bool{}
	for _, p := range out {
		seen[p] = true
	}
	for _, p := range pl.Names {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// rootfsKey names the cached bootstrap of suite with this package set.
func (pl *PackageList) rootfsKey(suite string) string {
	h := sha256.New()
	for _, p := range pl.includes() {
		fmt.Fprintln(h, p)
	}
	return suite + "-" + hex.EncodeToString(h.Sum(nil))[:16]
}
