// Command fakebangerd is bangerd with an in-memory VMM, network, firewall
// and host facts, for the reliability tests in e2e/ that need many VMs or
// a daemon to SIGKILL but not guests: the real CLI, auto-start, socket,
// lock, SQLite store, state directory, keys and disk files (qcow2 overlay,
// ext4 work disk) are used as in bangerd. It needs no root and is never
// installed. Its fake VMs exist only in its memory: after a restart the
// daemon finds their processes gone and marks them stopped, as it would
// after a host reboot.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/bangerdev/banger/internal/config"
	"github.com/bangerdev/banger/internal/daemon"
	"github.com/bangerdev/banger/internal/hostfacts"
	"github.com/bangerdev/banger/internal/nat"
	"github.com/bangerdev/banger/internal/network"
	"github.com/bangerdev/banger/internal/paths"
	"github.com/bangerdev/banger/internal/vmm"
	"github.com/bangerdev/banger/internal/vmm/vmmfake"
)

func main() {
	if err := run(); err != nil {
		var ar *daemon.AlreadyRunningError
		if errors.As(err, &ar) {
			fmt.Fprintln(os.Stderr, "fakebangerd: "+err.Error())
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "fakebangerd: "+err.Error())
		os.Exit(1)
	}
}

func run() error {
	layout, err := paths.Default()
	if err != nil {
		return err
	}
	// The CLI starts the daemon as "bangerd --socket PATH".
	if len(os.Args) == 3 && os.Args[1] == "--socket" {
		layout.SocketPath = os.Args[2]
		layout.RunDir = filepath.Dir(os.Args[2])
	}
	cfg, err := config.Load(layout.ConfigFile, os.Getenv)
	if err != nil {
		return err
	}
	cfg.DNS, cfg.VMM = "none", "qemu"
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.SlogLevel()}))
	exe, _ := os.Executable()
	if err := cfg.ResolveRuntimeDir(exe); err != nil {
		log.Warn("no runtime bundle", "err", err)
	}
	d, err := daemon.New(daemon.Options{Layout: layout, Config: cfg, RuntimeDir: cfg.RuntimeDir, Logger: log,
		Net: network.NewFake(), Firewall: nat.NewFake(), Host: &hostfacts.Fake{},
		Drivers: map[string]vmm.Driver{"qemu": vmmfake.New("qemu")}})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return d.Run(ctx)
}
