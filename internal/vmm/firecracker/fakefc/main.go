package fakefc

import (
	"fmt"
	"net"
	"os"
	"strings"
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
	version                              bool
}

// exitArgParsing is firecracker's exit code for a bad command line
// (FcExitCode::ArgParsing).
const exitArgParsing = 153

// parseFlags reads firecracker's command line as its arg_parser does:
// "--flag value" only ("--flag=value" is an unknown argument, named
// without its dashes), each flag at most once, a value that starts with
// "--" is no value, and --help/--version win over everything else.
func parseFlags(args []string) (flags, error) {
	var f flags
	for _, a := range args {
		if a == "--version" {
			f.version = true
			return f, nil
		}
	}
	valued := map[string]*string{"api-sock": &f.apiSock, "log-path": &f.logPath, "level": &f.level,
		"metrics-path": &f.metricsPath, "id": new(string), "module": new(string)}
	switches := map[string]bool{"show-level": true, "show-log-origin": true, "no-seccomp": true, "boot-timer": true}
	seen := map[string]bool{}
	for i := 0; i < len(args); i++ {
		if !strings.HasPrefix(args[i], "--") {
			return f, argErr("Found argument '%s' which wasn't expected, or isn't valid in this context.", args[i])
		}
		name := args[i][2:]
		dst, isValued := valued[name]
		if !isValued && !switches[name] {
			return f, argErr("Found argument '%s' which wasn't expected, or isn't valid in this context.", name)
		}
		if seen[name] {
			return f, argErr("The argument '%s' was provided more than once.", name)
		}
		seen[name] = true
		if isValued {
			if i+1 >= len(args) || strings.HasPrefix(args[i+1], "--") {
				return f, argErr("The argument '%s' requires a value, but none was supplied", name)
			}
			i++
			*dst = args[i]
		}
	}
	if f.level != "" && !validLevel(f.level) {
		return f, fmt.Errorf("Invalid value for logger level: %s", f.level)
	}
	if f.apiSock == "" {
		return f, fmt.Errorf("fakefc: --api-sock is required (firecracker's default /run/firecracker.socket is not modelled)")
	}
	return f, nil
}

// argErr renders firecracker's MainError::ParseArguments.
func argErr(format string, a ...any) error {
	return fmt.Errorf("Arguments parsing error: "+format+" \n\nFor more information try --help.", a...)
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
// exits 0 when the guest resets (Ctrl-Alt-Del it has read), 1 after a
// failed snapshot restore, 153 on a bad command line. Firecracker installs
// no handler for SIGTERM or SIGINT, so they end the fake by the signal
// too. --version prints "Firecracker vX.Y.Z" and exits. It returns the
// exit code.
func Main(args []string) int {
	f, err := parseFlags(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		if strings.HasPrefix(err.Error(), "Arguments parsing error") {
			return exitArgParsing
		}
		return 1
	}
	if f.version {
		fmt.Printf("Firecracker v%s\n\n", Version)
		return 0
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
	<-srv.Exited()
	return srv.ExitCode()
}
