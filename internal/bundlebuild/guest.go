package bundlebuild

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed guest
var embeddedGuest embed.FS

// guestFile maps a file of the guest/ directory to where it goes in the
// root filesystem. Optional files may be missing from a GuestDir (an older
// or deliberately untuned guest, like the stock baseline of make bench).
type guestFile struct {
	name     string
	dest     string
	mode     os.FileMode
	optional bool
	// wantedBy, when set, is the target whose .wants/ enables the unit.
	wantedBy string
}

var guestLayout = []guestFile{
	{name: "banger-guest", dest: "usr/local/sbin/banger-guest", mode: 0o755},
	{name: "banger-guest.service", dest: "etc/systemd/system/banger-guest.service", mode: 0o644, wantedBy: "multi-user.target"},
	{name: "sshd-banger.conf", dest: "etc/ssh/sshd_config.d/banger.conf", mode: 0o644},
	{name: "fstab", dest: "etc/fstab", mode: 0o644},
	{name: "banger-ready.service", dest: "etc/systemd/system/banger-ready.service", mode: 0o644, optional: true, wantedBy: "multi-user.target"},
	{name: "banger-hold.service", dest: "etc/systemd/system/banger-hold.service", mode: 0o644, optional: true, wantedBy: "multi-user.target"},
	{name: "banger-release.socket", dest: "etc/systemd/system/banger-release.socket", mode: 0o644, optional: true},
	{name: "banger-growfs.service", dest: "etc/systemd/system/banger-growfs.service", mode: 0o644, optional: true, wantedBy: "multi-user.target"},
	{name: "ssh-early.conf", dest: "etc/systemd/system/ssh.service.d/banger.conf", mode: 0o644, optional: true},
	{name: "after-ready.conf", dest: "etc/systemd/system/sysinit.target.d/banger.conf", mode: 0o644, optional: true},
	{name: "after-ready.conf", dest: "etc/systemd/system/systemd-udev-trigger.service.d/banger.conf", mode: 0o644, optional: true},
	{name: "after-ready.conf", dest: "etc/systemd/system/systemd-udevd.service.d/banger.conf", mode: 0o644, optional: true},
	{name: "after-ready.conf", dest: "etc/systemd/system/systemd-tmpfiles-setup.service.d/banger.conf", mode: 0o644, optional: true},
	{name: "after-ready.conf", dest: "etc/systemd/system/systemd-update-utmp.service.d/banger.conf", mode: 0o644, optional: true},
	{name: "after-ready.conf", dest: "etc/systemd/system/systemd-journal-flush.service.d/banger.conf", mode: 0o644, optional: true},
	{name: "after-ready.conf", dest: "etc/systemd/system/systemd-sysusers.service.d/banger.conf", mode: 0o644, optional: true},
	{name: "after-ready.conf", dest: "etc/systemd/system/systemd-sysctl.service.d/banger.conf", mode: 0o644, optional: true},
	{name: "modprobe-skip.conf", dest: "etc/systemd/system/modprobe@.service.d/banger.conf", mode: 0o644, optional: true},
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
		if err != nil && f.optional && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read guest file %s: %w: point GuestDir at a directory with %s or leave it empty", f.name, err, f.name)
		}
		g[f.name] = data
	}
	return g, nil
}

// install writes the guest files into root and enables their units.
func (g guestFiles) install(root string) error {
	for _, f := range guestLayout {
		if _, ok := g[f.name]; !ok {
			continue
		}
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
		if f.wantedBy != "" {
			link := filepath.Join(root, "etc/systemd/system", f.wantedBy+".wants", f.name)
			if err := replaceSymlink("/"+f.dest, link); err != nil {
				return err
			}
		}
	}
	return nil
}
