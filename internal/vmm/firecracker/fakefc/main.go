package fakefc

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// ModeEnv selects failure modes of Main for tests: "crash" exits with an
// error on stderr before the API comes up.
const ModeEnv = "FAKEFC_MODE"

// Main runs the fake as the firecracker program would run: it accepts
// "--api-sock PATH", serves the API there, writes the guest console to
// stdout, and exits 0 shortly after SendCtrlAltDel or on SIGTERM/SIGINT.
// It returns the exit code.
func Main(args []string) int {
	sock := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--api-sock" && i+1 < len(args):
			sock = args[i+1]
			i++
		case strings.HasPrefix(a, "--api-sock="):
			sock = strings.TrimPrefix(a, "--api-sock=")
		default:
			fmt.Fprintf(os.Stderr, "fakefc: unknown argument %q\n", a)
			return 1
		}
	}
	if sock == "" {
		fmt.Fprintln(os.Stderr, "fakefc: --api-sock is required")
		return 1
	}
	if os.Getenv(ModeEnv) == "crash" {
		fmt.Fprintln(os.Stderr, "fakefc: simulated crash before the API came up")
		return 1
	}
	ln, err := net.Listen("unix", sock)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fakefc: %v\n", err)
		return 1
	}
	defer os.Remove(sock)
	srv := NewServer(os.Stdout)
	go srv.Serve(ln)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-srv.CtrlAltDel():
		fmt.Println("\nfakefc: ctrl-alt-del received, guest rebooting (reboot=k ends the VMM)")
		time.Sleep(100 * time.Millisecond) // let the API answer first
		return 0
	case s := <-sigs:
		fmt.Fprintf(os.Stderr, "fakefc: exiting on %v\n", s)
		return 0
	}
}
