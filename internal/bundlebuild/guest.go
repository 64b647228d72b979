package bundlebuild

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed guest
var embeddedGuest embed.FS

// guestFile maps a file of the guest/ directory to where it goes in the
// root filesystem.
type guestFile struct {
	name string
	dest string
	mode os.FileMode
}

var guestLayout = []guestFile{
	{"banger-guest", "usr/local/sbin/banger-guest", 0o755},
	{"banger-guest.service", "etc/systemd/system/banger-guest.service", 0o644},
	{"sshd-banger.conf", "etc/ssh/sshd_config.d/banger.conf", 0o644},
	{"fstab", "etc/fstab", 0o644},
}

// guestFiles holds the content of every guestLayout entry.
type guestFiles map[string][]byte

// loadGuestFiles reads the guest files from dir, or the embedded copies
// when dir is empty.
func loadGuestFiles(dir string) (guestFiles, error) {
	var src fs.FS
	if dir == "" {
		sub, err := fs.Sub(embeddedGuest, "guest")
		if err != nil {
			return nil, err
		}
		src = sub
	} else {
		src = os.DirFS(dir)
	}
	g := guestFiles{}
	for _, f := range guestLayout {
		data, err := fs.ReadFile(src, f.name)
		if err != nil {
			return nil, fmt.Errorf("read guest file %s: %w: point GuestDir at a directory with %s or leave it empty", f.name, err, f.name)
		}
		g[f.name] = data
	}
	return g, nil
}

// install writes the guest files into root and enables banger-guest.service.
func (g guestFiles) install(root string) error {
	for _, f := range guestLayout {
		dest := filepath.Join(root, f.dest)
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dest, g[f.name], f.mode); err != nil {
			return err
		}
		if err := os.Chmod(dest, f.mode); err != nil {
			return err
		}
	}
	return replaceSymlink("/etc/systemd/system/banger-guest.service",
		filepath.Join(root, "etc/systemd/system/multi-user.target.wants/banger-guest.service"))
}
