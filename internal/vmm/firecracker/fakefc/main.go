package fakefc

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Environment variables configuring Main for tests.
const (
	// ModeEnv selects failure modes: "crash" exits with an error on stderr
	// before the API comes up.
	ModeEnv = "FAKEFC_MODE"
	// KeyboardReadyEnv is Options.KeyboardReady as a Go duration
	// (default 300ms).
	KeyboardReadyEnv = "FAKEFC_KEYBOARD_READY"
	// PowerOffEnv is Options.PowerOffAfter as a Go duration (default: the
	// guest never powers itself off).
	PowerOffEnv = "FAKEFC_GUEST_POWEROFF_AFTER"
)

// Version is what the fake reports as its firecracker version.
const Version = "1.16.1-fake"

// flags holds the command line options firecracker accepts that the fake
// models.
type flags struct {
	apiSock, logPath, level, metricsPath string
}

// parseFlags reads firecracker's command line ("--flag value" or
// "--flag=value"); an unknown flag is an error, as for firecracker.
func parseFlags(args []string) (flags, error) {
	var f flags
	valued := map[string]*string{"--api-sock": &f.apiSock, "--log-path": &f.logPath, "--level": &f.level,
		"--metrics-path": &f.metricsPath, "--id": new(string), "--module": new(string)}
	switches := map[string]bool{"--show-level": true, "--show-log-origin": true, "--no-seccomp": true, "--boot-timer": true}
	for i := 0; i < len(args); i++ {
		name, val, hasVal := cut(args[i])
		if dst, ok := valued[name]; ok {
			if !hasVal {
				if i+1 >= len(args) {
					return f, fmt.Errorf("Arguments parsing error: The argument '%s' requires a value, but none was supplied", name)
				}
				i++
				val = args[i]
			}
			*dst = val
			continue
		}
		if switches[name] && !hasVal {
			continue
		}
		return f, fmt.Errorf("Arguments parsing error: Found argument '%s' which wasn't expected, or isn't valid in this context.", args[i])
	}
	if f.level != "" && !validLevel(f.level) {
		return f, fmt.Errorf("Invalid value for logger level: %s", f.level)
	}
	if f.apiSock == "" {
		return f, fmt.Errorf("fakefc: --api-sock is required (firecracker's default /run/firecracker.socket is not modelled)")
	}
	return f, nil
}

func cut(arg string) (name, val string, hasVal bool) {
	for i := 0; i < len(arg); i++ {
		if arg[i] == '=' {
			return arg[:i], arg[i+1:], true
		}
	}
	return arg, "", false
}

func envDuration(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("fakefc: %s=%q: %v", name, v, err)
	}
	return d, nil
}

// Main runs the fake as the firecracker program would run: it serves the
// API on --api-sock, logs to --log-path (opened without O_APPEND or
// O_TRUNC, as firecracker does), writes the guest console to stdout, and
// exits 0 when the guest resets (Ctrl-Alt-Del it has read) or on
// SIGTERM/SIGINT, 1 after a failed snapshot restore. It returns the exit
// code.
func Main(args []string) int {
	f, err := parseFlags(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if os.Getenv(ModeEnv) == "crash" {
		fmt.Fprintln(os.Stderr, "fakefc: simulated crash before the API came up")
		return 1
	}
	opts := Options{Console: os.Stdout, RebootDelay: 100 * time.Millisecond, MetricsConfigured: f.metricsPath != ""}
	if opts.KeyboardReady, err = envDuration(KeyboardReadyEnv, 300*time.Millisecond); err == nil {
		opts.PowerOffAfter, err = envDuration(PowerOffEnv, 0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, p := range []string{f.logPath, f.metricsPath} {
		if p != "" {
			if e := openCreate(p); e != "" {
				fmt.Fprintf(os.Stderr, "fakefc: open %s: %s\n", p, e)
				return 1
			}
		}
	}
	if f.logPath != "" {
		lf, err := os.OpenFile(f.logPath, os.O_RDWR, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer lf.Close()
		opts.Log = lf
	} else {
		opts.Log = os.Stdout // firecracker logs to stdout until a log path is set
	}
	fmt.Fprintf(opts.Log, "[anonymous-instance:main] Running Firecracker v%s\n", Version)
	return serve(f.apiSock, opts)
}

func serve(sock string, opts Options) int {
	ln, err := net.Listen("unix", sock)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fakefc: %v\n", err)
		return 1
	}
	defer os.Remove(sock)
	srv := NewServer(opts)
	go srv.Serve(ln)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-srv.Exited():
		return srv.ExitCode()
	case s := <-sigs:
		fmt.Fprintf(os.Stderr, "fakefc: exiting on %v\n", s)
		return 0
	}
}
