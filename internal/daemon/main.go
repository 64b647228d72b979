package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/bangerdev/banger/internal/config"
	"github.com/bangerdev/banger/internal/paths"
	"github.com/bangerdev/banger/internal/version"
)

// Main is the whole of a bangerd command: it parses --socket, --log-level
// and --version from args, loads the user's layout and config, resolves
// the runtime bundle and serves until SIGINT or SIGTERM. It returns the
// exit code; a daemon already running is not an error. adjust, when set,
// may change the config and fill Options (subsystem fakes) before the
// daemon is built; e2e/fakebangerd uses it.
func Main(prog string, args []string, stderr io.Writer, adjust func(*config.Config, *Options)) int {
	err := runMain(prog, args, stderr, adjust)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, prog+": "+err.Error())
	var ar *AlreadyRunningError
	if errors.As(err, &ar) {
		return 0
	}
	return 1
}

func runMain(prog string, args []string, stderr io.Writer, adjust func(*config.Config, *Options)) error {
	paths.EnsureSbinInPath()
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(stderr)
	socket := fs.String("socket", "", "unix socket to listen on (default $XDG_RUNTIME_DIR/banger/bangerd.sock)")
	logLevel := fs.String("log-level", "", "debug, info, warn or error (default from config, else info)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *showVersion {
		fmt.Println(prog, version.Version)
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
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))
	slog.SetDefault(log)

	exe, _ := os.Executable()
	if err := cfg.ResolveRuntimeDir(exe); err != nil {
		log.Warn("no runtime bundle", "err", err)
	} else {
		log.Info("runtime bundle", "dir", cfg.RuntimeDir, "source", cfg.Sources["runtime_dir"])
	}
	opts := Options{Layout: layout, Config: cfg, Logger: log}
	if adjust != nil {
		adjust(cfg, &opts)
	}
	opts.RuntimeDir = cfg.RuntimeDir
	d, err := New(opts)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return d.Run(ctx)
}
