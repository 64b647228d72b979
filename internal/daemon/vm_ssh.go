package daemon

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"

	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/sshkeys"
)

// knownHostsPath is banger's own known_hosts, next to the user's key.
func (d *Daemon) knownHostsPath() string {
	return sshkeys.KnownHostsFor(d.cfg.SSHKeyPath)
}

func (d *Daemon) sshTarget(v *model.VM) sshkeys.Target {
	return sshkeys.Target{Addr: v.IP, User: "root", KeyPath: d.cfg.SSHKeyPath, HostKey: v.HostKeyPub, KnownHosts: d.knownHostsPath()}
}

func vmHosts(v *model.VM) []string {
	return []string{v.Name, v.Name + ".vm", v.IP}
}

// pinHostKey records the VM's host key under its name, DNS name and IP.
func (d *Daemon) pinHostKey(v *model.VM) error {
	if v.HostKeyPub == "" {
		return nil
	}
	if err := (sshkeys.KnownHosts{Path: d.knownHostsPath()}).Pin(vmHosts(v), v.HostKeyPub); err != nil {
		return fmt.Errorf("pin host key of %s: %w", v.Name, err)
	}
	return nil
}

func (d *Daemon) unpinHostKey(v *model.VM) {
	if err := (sshkeys.KnownHosts{Path: d.knownHostsPath()}).Unpin(vmHosts(v)); err != nil {
		d.log.Warn("unpin host key", "vm", v.Name, "err", err)
	}
}

// sshRun runs cmd in the guest and returns its stdout.
func (d *Daemon) sshRun(ctx context.Context, v *model.VM, cmd string) ([]byte, error) {
	var out, errb bytes.Buffer
	code, err := sshkeys.Exec(ctx, d.sshTarget(v), cmd, nil, &out, &errb)
	if err != nil {
		return out.Bytes(), err
	}
	if code != 0 {
		return out.Bytes(), fmt.Errorf("%q exited %d: %s", cmd, code, bytes.TrimSpace(errb.Bytes()))
	}
	return out.Bytes(), nil
}

// publishDNS makes <name>.vm resolve to the VM's address.
func (d *Daemon) publishDNS(v *model.VM) {
	if d.publisher == nil {
		return
	}
	ip, err := netip.ParseAddr(v.IP)
	if err != nil {
		return
	}
	if err := d.publisher.Publish(v.Name, ip); err != nil {
		d.log.Warn("publish dns", "vm", v.Name, "err", err)
	}
}

func (d *Daemon) unpublishDNS(v *model.VM) {
	if d.publisher == nil {
		return
	}
	if err := d.publisher.Unpublish(v.Name); err != nil {
		d.log.Warn("unpublish dns", "vm", v.Name, "err", err)
	}
}
