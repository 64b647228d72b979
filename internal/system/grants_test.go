package system

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bangerdev/banger/internal/testenv"
)

func TestAllocateRefusesASecondNameForOneUID(t *testing.T) {
	var r Registry
	if _, err := r.Allocate("alice", 1001, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Allocate("alias", 1001, nil); err == nil || !strings.Contains(err.Error(), "already set up as alice") {
		t.Fatalf("second name for uid 1001: %v", err)
	}
	if len(r.Users) != 1 {
		t.Fatalf("users = %+v", r.Users)
	}
}

func TestEffectiveLimits(t *testing.T) {
	r := Registry{Limits: Limits{MaxTaps: 5}}
	a := r.Effective(Allocation{User: "a", MaxNAT: 2})
	if a.MaxTaps != 5 || a.MaxNAT != 2 {
		t.Fatalf("effective = %+v; want the registry's taps and the user's own NAT", a)
	}
	if d := (&Registry{}).Effective(Allocation{}); d.MaxTaps != DefaultMaxTaps || d.MaxNAT != DefaultMaxNAT {
		t.Fatalf("defaults = %+v", d)
	}
}

// TestDeviceACL grants and revokes named entries on a real character
// device node: the mode's owner and other bits and other entries stay.
func TestDeviceACL(t *testing.T) {
	testenv.RequireRoot(t, "makes a device node")
	dev := filepath.Join("/dev", "bgt-acl-"+filepath.Base(t.TempDir()))
	if err := unix.Mknod(dev, unix.S_IFCHR|0o600, int(unix.Mkdev(10, 200))); err != nil {
		t.Skipf("mknod in /dev: %v", err)
	}
	t.Cleanup(func() { os.Remove(dev) })
	if err := os.Chmod(dev, 0o600); err != nil {
		t.Fatal(err)
	}
	if open, _ := othersMayOpen(dev); open {
		t.Fatal("a 0600 device counted as open to all")
	}
	for _, uid := range []int{4001, 4002, 4001} {
		if err := grantDevice(dev, uid); err != nil {
			t.Skipf("no ACLs on /dev here: %v", err)
		}
	}
	if got := deviceUsers(dev); !slices.Equal(got, []int{4001, 4002}) {
		t.Fatalf("named users = %v; want 4001 and 4002 once each", got)
	}
	fi, _ := os.Stat(dev)
	if fi.Mode().Perm()&0o007 != 0 || fi.Mode().Perm()&0o700 != 0o600 {
		t.Fatalf("mode %04o: owner or other bits changed", fi.Mode().Perm())
	}
	if err := revokeDevice(dev, 4001); err != nil {
		t.Fatal(err)
	}
	if got := deviceUsers(dev); !slices.Equal(got, []int{4002}) {
		t.Fatalf("after revoking 4001: %v", got)
	}
	if err := revokeDevice(dev, 4002); err != nil {
		t.Fatal(err)
	}
	fi, _ = os.Stat(dev)
	if got := deviceUsers(dev); len(got) != 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("after revoking all: users %v, mode %04o; want none and 0600 again", got, fi.Mode().Perm())
	}
}

func TestCheckRootOwned(t *testing.T) {
	testenv.RequireRoot(t, "chowns files")
	dir := t.TempDir() // root-owned, under root's sticky /tmp
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "helper")
	if err := os.WriteFile(good, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := CheckRootOwned(good, "network helper"); err != nil {
		t.Fatalf("root's own file in root's dirs: %v", err)
	}
	link := filepath.Join(dir, "link")
	_ = os.Symlink(good, link)
	if err := CheckRootOwned(link, "network helper"); err != nil {
		t.Fatalf("root's symlink to root's file: %v", err)
	}
	for name, setup := range map[string]func(p string) error{
		"user-owned file":       func(p string) error { return os.Chown(p, 65534, 65534) },
		"group-writable file":   func(p string) error { return os.Chmod(p, 0o775) },
		"user-owned directory":  func(p string) error { return os.Chown(filepath.Dir(p), 65534, 65534) },
		"world-writable folder": func(p string) error { return os.Chmod(filepath.Dir(p), 0o777) },
	} {
		t.Run(name, func(t *testing.T) {
			d := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
			p := filepath.Join(d, "helper")
			_ = os.Mkdir(d, 0o755)
			_ = os.WriteFile(p, []byte("x"), 0o755)
			if err := setup(p); err != nil {
				t.Fatal(err)
			}
			if err := CheckRootOwned(p, "network helper"); err == nil || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("%s accepted: %v", name, err)
			}
		})
	}
}
