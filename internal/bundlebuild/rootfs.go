package bundlebuild

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/bangerdev/banger/internal/execx"
)

// bootstrapTree fills dir with a Debian tree for the package list: from the
// cached tarball when one matches, otherwise by debootstrap (and then the
// tarball is written for next time).
func bootstrapTree(ctx context.Context, o Options, pl *PackageList, dir string) error {
	key := pl.rootfsKey(o.Suite)
	tarball := filepath.Join(o.CacheDir, "rootfs", key+".tar")
	if _, err := os.Stat(tarball); err == nil {
		o.Log.Info("reusing cached root filesystem", "tarball", tarball)
		if err := execx.Check(ctx, "tar", "-xpf", tarball, "--numeric-owner", "--xattrs", "--xattrs-include=*", "-C", dir); err != nil {
			return fmt.Errorf("unpack cached root filesystem: %w: delete %s to bootstrap afresh", err, tarball)
		}
		return nil
	}
	if !execx.Have("debootstrap") {
		return errors.New("build root filesystem: debootstrap not found: install debootstrap (Debian: apt-get install debootstrap; Fedora: dnf install debootstrap)")
	}
	o.Log.Info("bootstrapping Debian", "suite", o.Suite, "mirror", o.Mirror, "packages", len(pl.includes()))
	args := []string{"debootstrap", "--variant=minbase", "--include=" + strings.Join(pl.includes(), ","), o.Suite, dir, o.Mirror}
	if _, err := execx.Run(ctx, execx.Cmd{Args: args}); err != nil {
		log := filepath.Join(dir, "debootstrap", "debootstrap.log")
		return fmt.Errorf("debootstrap %s: %w: check the mirror is reachable and the package names in %s exist (log: %s)", o.Suite, err, o.PackagesFile, log)
	}
	if err := os.MkdirAll(filepath.Dir(tarball), 0o755); err != nil {
		return fmt.Errorf("cache root filesystem: %w", err)
	}
	tmp := tarball + ".part"
	if err := execx.Check(ctx, "tar", "-cpf", tmp, "--numeric-owner", "--xattrs", "--xattrs-include=*", "-C", dir, "."); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("cache root filesystem: %w", err)
	}
	if err := os.Rename(tmp, tarball); err != nil {
		return fmt.Errorf("cache root filesystem: %w", err)
	}
	return nil
}

// bootMasked are units that slow a dev VM's boot or wake it for nothing.
var bootMasked = []string{
	"apt-daily.timer", "apt-daily-upgrade.timer", "apt-daily.service",
	"apt-daily-upgrade.service", "e2scrub_all.timer", "e2scrub_reap.service",
	"fstrim.timer", "dpkg-db-backup.timer", "systemd-firstboot.service", "man-db.timer",
}

// bootMaskedGenerators are systemd generators a banger guest never needs:
// each is a fork+exec before the first unit starts (60-120 ms under TCG).
// cryptsetup, integritysetup, veritysetup: no encrypted or verity disks;
// gpt-auto: the disks carry no GPT; hibernate-resume: a VM does not
// hibernate (banger snapshots it from the host); system-update: no offline
// updates. fstab, getty (the serial login), rc-local, run, sysv and debug
// stay.
var bootMaskedGenerators = []string{
	"systemd-cryptsetup-generator", "systemd-integritysetup-generator", "systemd-veritysetup-generator",
	"systemd-gpt-auto-generator", "systemd-hibernate-resume-generator", "systemd-system-update-generator",
}

// customize turns a bootstrapped tree into a banger guest (see
// docs/guest-contract.md).
func customize(o Options, dir string) error {
	g, err := loadGuestFiles(o.GuestDir)
	if err != nil {
		return err
	}
	steps := []struct {
		what string
		fn   func() error
	}{
		{"guest files", func() error { return g.install(dir) }},
		{"mask boot-time units", func() error {
			if o.Untuned {
				return nil
			}
			if err := maskUnits(dir, bootMasked); err != nil {
				return err
			}
			for _, g := range bootMaskedGenerators {
				if err := replaceSymlink("/dev/null", filepath.Join(dir, "etc/systemd/system-generators", g)); err != nil {
					return err
				}
			}
			return nil
		}},
		// The microVM kernel caps pid_max at 32768 (tinyconfig's
		// BASE_SMALL); Debian's 50-pid-max.conf asks for 4194304 and
		// fails systemd-sysctl, leaving the system "degraded".
		{"pid_max override", func() error {
			return replaceSymlink("/dev/null", filepath.Join(dir, "etc/sysctl.d/50-pid-max.conf"))
		}},
		{"stable interface names", func() error {
			return replaceSymlink("/dev/null", filepath.Join(dir, "etc/systemd/network/99-default.link"))
		}},
		{"ssh host keys", func() error { return removeGlob(filepath.Join(dir, "etc/ssh/ssh_host_*")) }},
		{"machine-id", func() error { return resetMachineID(dir) }},
		{"root password", func() error { return lockRoot(filepath.Join(dir, "etc/shadow")) }},
		{"host identity", func() error { return resetIdentity(dir) }},
		{"apt caches", func() error {
			if err := removeGlob(filepath.Join(dir, "var/cache/apt/archives/*.deb")); err != nil {
				return err
			}
			return removeGlob(filepath.Join(dir, "var/cache/apt/*.bin"))
		}},
	}
	for _, s := range steps {
		if err := s.fn(); err != nil {
			return fmt.Errorf("customize root filesystem (%s): %w", s.what, err)
		}
	}
	return nil
}

func maskUnits(root string, units []string) error {
	for _, u := range units {
		for _, wants := range []string{"timers.target.wants", "multi-user.target.wants", "sysinit.target.wants"} {
			if err := os.Remove(filepath.Join(root, "etc/systemd/system", wants, u)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		if err := replaceSymlink("/dev/null", filepath.Join(root, "etc/systemd/system", u)); err != nil {
			return err
		}
	}
	return nil
}

func replaceSymlink(target, link string) error {
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return err
	}
	if err := os.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.Symlink(target, link)
}

func removeGlob(pattern string) error {
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return err
	}
	for _, m := range matches {
		if err := os.Remove(m); err != nil {
			return err
		}
	}
	return nil
}

// resetMachineID empties /etc/machine-id so every VM gets its own, and
// points D-Bus at it.
func resetMachineID(root string) error {
	if err := os.WriteFile(filepath.Join(root, "etc/machine-id"), nil, 0o444); err != nil {
		return err
	}
	return replaceSymlink("/etc/machine-id", filepath.Join(root, "var/lib/dbus/machine-id"))
}

// lockRoot sets root's password field to "!" (no password login; keys
// only).
func lockRoot(shadow string) error {
	data, err := os.ReadFile(shadow)
	if err != nil {
		return err
	}
	lines := strings.Split(string(data), "\n")
	found := false
	for i, l := range lines {
		f := strings.Split(l, ":")
		if len(f) > 2 && f[0] == "root" {
			f[1] = "!"
			lines[i] = strings.Join(f, ":")
			found = true
		}
	}
	if !found {
		return errors.New("no root entry in /etc/shadow")
	}
	return os.WriteFile(shadow, []byte(strings.Join(lines, "\n")), 0o640)
}

// resetIdentity drops what debootstrap copied from the build host.
func resetIdentity(root string) error {
	files := map[string]string{
		"etc/hostname": "banger\n",
		"etc/hosts":    "127.0.0.1\tlocalhost\n127.0.1.1\tbanger\n::1\tlocalhost ip6-localhost ip6-loopback\n",
		// pam_env warns on every login without it; C.UTF-8 ships with libc.
		"etc/default/locale": "LANG=C.UTF-8\n",
	}
	for name, content := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	if err := os.Remove(filepath.Join(root, "etc/resolv.conf")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.WriteFile(filepath.Join(root, "etc/resolv.conf"), nil, 0o644)
}
