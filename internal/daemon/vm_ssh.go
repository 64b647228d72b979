package daemon

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"

	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/sshclient"
	"github.com/bangerdev/banger/internal/sshkeys"
)

// guests reaches the guests of VMs over SSH with the user's key, checking
// the host keys banger pinned: targets, pinning, commands, readiness and
// the clock of a resumed guest.
type guests struct {
	keyPath string
	log     *slog.Logger
}

// knownHostsPath is banger's own known_hosts, next to the user's key.
func (g *guests) knownHostsPath() string {
	return sshkeys.KnownHostsFor(g.keyPath)
}

func (g *guests) sshTarget(v *model.VM) sshclient.Target {
	return sshclient.Target{Addr: v.IP, User: "root", KeyPath: g.keyPath, HostKey: v.HostKeyPub, KnownHosts: g.knownHostsPath()}
}

func vmHosts(v *model.VM) []string {
	return []string{v.Name, v.Name + ".vm", v.IP}
}

// pinHostKey records the VM's host key under its name, DNS name and IP.
func (g *guests) pinHostKey(v *model.VM) error {
	if v.HostKeyPub == "" {
		return nil
	}
	if err := (sshkeys.KnownHosts{Path: g.knownHostsPath()}).Pin(vmHosts(v), v.HostKeyPub); err != nil {
		return fmt.Errorf("pin host key of %s: %w", v.Name, err)
	}
	return nil
}

func (g *guests) unpinHostKey(v *model.VM) {
	if err := (sshkeys.KnownHosts{Path: g.knownHostsPath()}).Unpin(vmHosts(v)); err != nil {
		g.log.Warn("unpin host key", "vm", v.Name, "err", err)
	}
}

// sshRun runs cmd in the guest and returns its stdout.
func (g *guests) sshRun(ctx context.Context, v *model.VM, cmd string) ([]byte, error) {
	var out, errb bytes.Buffer
	code, err := sshclient.Exec(ctx, g.sshTarget(v), cmd, nil, &out, &errb)
	if err != nil {
		return out.Bytes(), err
	}
	if code != 0 {
		return out.Bytes(), fmt.Errorf("%q exited %d: %s", cmd, code, bytes.TrimSpace(errb.Bytes()))
	}
	return out.Bytes(), nil
}
