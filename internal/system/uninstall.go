package system

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/bangerdev/banger/internal/execx"
	"github.com/bangerdev/banger/internal/nat"
	"github.com/bangerdev/banger/internal/network"
)

// UninstallOptions configure Uninstall.
type UninstallOptions struct {
	// Users to remove; empty means every recorded user, and then
	// everything install put on the host.
	Users []string
	// Out receives one line per thing removed.
	Out io.Writer
}

// Uninstall undoes Install for the named users (all when none): their
// taps, bridge and firewall table go (their VMs lose the network; their
// disks stay in their home), their allocation is dropped and they leave
// the kvm group if install added them. When no user is left the helper,
// the udev rule and the record go and /dev/net/tun gets its old mode.
func Uninstall(ctx context.Context, o UninstallOptions) error {
	if os.Geteuid() != 0 {
		return errors.New("system uninstall changes the host: run it with sudo")
	}
	reg, err := Load(RegistryPath)
	if err != nil {
		return err
	}
	names := o.Users
	if len(names) == 0 {
		for _, a := range reg.Users {
			names = append(names, a.User)
		}
	}
	for _, name := range names {
		a, ok := reg.Remove(name)
		if !ok {
			return fmt.Errorf("%s is not set up for banger; 'banger system status' lists who is", name)
		}
		if err := teardownNetwork(ctx, a, o.Out); err != nil {
			return err
		}
		if err := revokeTun(reg, a.UID, o.Out); err != nil {
			return err
		}
		if i := slices.Index(reg.Granted.AddedToKVM, name); i >= 0 {
			if err := execx.Check(ctx, "gpasswd", "-d", name, "kvm"); err != nil {
				return fmt.Errorf("remove %s from the kvm group: %w", name, err)
			}
			reg.Granted.AddedToKVM = slices.Delete(reg.Granted.AddedToKVM, i, i+1)
			fmt.Fprintf(o.Out, "removed %s from the kvm group\n", name)
		}
	}
	if len(reg.Users) > 0 {
		return reg.Save(RegistryPath)
	}
	return removeAll(reg, o.Out)
}

// teardownNetwork removes a user's taps, bridge and firewall table.
func teardownNetwork(ctx context.Context, a Allocation, out io.Writer) error {
	nl := network.NewNetlinkManager()
	ports, err := network.RemoveTapPorts(a.Bridge)
	if err != nil {
		return fmt.Errorf("remove the taps of %s: %w", a.User, err)
	}
	if err := nl.TeardownBridge(ctx, a.Bridge); err != nil {
		return fmt.Errorf("remove bridge %s of %s: %w", a.Bridge, a.User, err)
	}
	if fw, _, err := nat.DetectFor(ctx, a.Bridge); err == nil {
		if err := fw.Teardown(ctx); err != nil {
			return fmt.Errorf("remove firewall rules of %s: %w", a.User, err)
		}
	}
	fmt.Fprintf(out, "removed the network of %s: %d tap(s), bridge %s, firewall table banger-%s\n", a.User, ports, a.Bridge, a.Bridge)
	return nil
}

// removeAll removes what install put on the host once no user is left.
func removeAll(reg *Registry, out io.Writer) error {
	if err := os.Remove(HelperPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	_ = os.Remove(filepath.Dir(HelperPath))
	fmt.Fprintf(out, "removed %s\n", HelperPath)
	if err := revokeForwarding(reg, out); err != nil {
		return err
	}
	if reg.Granted.WroteUdevRule {
		if err := os.Remove(UdevRulePath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		fmt.Fprintf(out, "removed %s\n", UdevRulePath)
	}
	if m := reg.Granted.TunModeBefore; m != 0 { // set by installs before ACLs
		if err := os.Chmod(tunDevice, os.FileMode(m)); err != nil {
			return err
		}
		fmt.Fprintf(out, "restored %s to mode %04o\n", tunDevice, m)
	}
	if err := os.Remove(RegistryPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	_ = os.Remove(filepath.Dir(RegistryPath))
	fmt.Fprintf(out, "removed %s; the host is as before banger system install\n", RegistryPath)
	return nil
}
