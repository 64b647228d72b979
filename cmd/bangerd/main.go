// Command bangerd is banger's daemon: it owns VM state and host resources
// and serves the /v1/ API on a unix socket. The banger CLI starts it on
// first use; VMs keep running when it stops.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/bangerdev/banger/internal/config"
	"github.com/bangerdev/banger/internal/daemon"
	"github.com/bangerdev/banger/internal/paths"
	"github.com/bangerdev/banger/internal/version"
)

func main() {
	if err := run(); err != nil {
		var ar *daemon.AlreadyRunningError
		if errors.As(err, &ar) {
			fmt.Fprintln(os.Stderr, "bangerd: "+err.Error())
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "bangerd: "+err.Error())
		os.Exit(1)
	}
}

func run() error {
	paths.EnsureSbinInPath()
	socket := flag.String("socket", "", "unix socket to listen on (default $XDG_RUNTIME_DIR/banger/bangerd.sock)")
	logLevel := flag.String("log-level", "", "debug, info, warn or error (default from config, else info)")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("bangerd", version.Version)
		return nil
	}
	layout, err := paths.Default()
	if err != nil {
		return err
	}
	if *socket != "" {
		layout.SocketPath = *socket
		layout.RunDir = filepath.Dir(*socket)
	}
	cfg, err := config.Load(layout.ConfigFile, os.Getenv)
	if err != nil {
		return err
	}
	lv := cfg.SlogLevel()
	if *logLevel != "" {
		if err := lv.UnmarshalText([]byte(*logLevel)); err != nil {
			return fmt.Errorf("invalid --log-level %q: use debug, info, warn or error", *logLevel)
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lv}))
	slog.SetDefault(log)

	exe, _ := os.Executable()
	if err := cfg.ResolveRuntimeDir(exe); err != nil {
		log.Warn("no runtime bundle", "err", err)
	} else {
		log.Info("runtime bundle", "dir", cfg.RuntimeDir, "source", cfg.Sources["runtime_dir"])
	}
	d, err := daemon.New(daemon.Options{Layout: layout, Config: cfg, RuntimeDir: cfg.RuntimeDir, Logger: log})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return d.Run(ctx)
}
