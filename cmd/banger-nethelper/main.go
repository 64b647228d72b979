// Command banger-nethelper makes the network changes an ordinary user's
// bangerd cannot: the user's bridge (with its firewall base rules), taps
// owned by the user, the user's NAT rules and the DNS sockets on the
// bridge address. `sudo banger system install` installs it with
// CAP_NET_ADMIN and CAP_NET_BIND_SERVICE, mode 0755: any account may start
// it, and it serves only the uids recorded in /etc/banger/users.toml. It
// reads one JSON request on stdin and answers on stdout; see
// internal/nethelper for what it checks. It takes nothing from its
// environment: started with any environment but nethelper.CleanEnv, it
// re-executes itself with that one first.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/bangerdev/banger/internal/nethelper"
	"github.com/bangerdev/banger/internal/system"
)

func main() {
	if !isClean(os.Environ()) {
		// The Go runtime has read GODEBUG and friends already; this process
		// does nothing with them but replace itself. /proc/self/exe is the
		// very file running now, so the capabilities come with it.
		err := syscall.Exec("/proc/self/exe", []string{"banger-nethelper"}, nethelper.CleanEnv())
		reply(nethelper.Response{Error: fmt.Sprintf("re-execute with a clean environment: %v", err)})
		os.Exit(1)
	}
	resp := run()
	reply(resp)
	if resp.Error != "" {
		os.Exit(1)
	}
}

// isClean reports whether env is nethelper.CleanEnv, as the Go runtime
// shows it to a program with file capabilities (it appends
// GOTRACEBACK=none in that secure mode).
func isClean(env []string) bool {
	env = slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return kv == "GOTRACEBACK=none" })
	return slices.Equal(env, nethelper.CleanEnv())
}

func reply(resp nethelper.Response) { _ = json.NewEncoder(os.Stdout).Encode(resp) }

func run() nethelper.Response {
	uid := os.Getuid()
	if uid == 0 {
		return nethelper.Response{Error: "banger-nethelper is for ordinary users; root's bangerd changes the network itself"}
	}
	if err := initialUserNS(); err != nil {
		return nethelper.Response{Error: err.Error()}
	}
	alloc, err := system.LoadForUID(uid)
	if err != nil {
		return nethelper.Response{Error: err.Error()}
	}
	b, err := io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
	if err != nil {
		return nethelper.Response{Error: fmt.Sprintf("read request: %v", err)}
	}
	req, err := nethelper.DecodeRequest(b)
	if err != nil {
		return nethelper.Response{Error: err.Error()}
	}
	var fdOut *os.File
	if req.Op == nethelper.OpDNSSockets {
		fdOut = os.NewFile(3, "reply")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	return nethelper.Serve(ctx, nethelper.RealHost(uid, os.Getgid()), alloc, req, fdOut)
}

// initialUserNS refuses to serve a caller inside a user namespace: there
// the uid the kernel reports is one the caller mapped, not the caller's
// own account, so it would name another user's allocation.
func initialUserNS() error {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return fmt.Errorf("read /proc/self/uid_map: %w", err)
	}
	if f := strings.Fields(string(b)); len(f) != 3 || f[0] != "0" || f[1] != "0" || f[2] != "4294967295" {
		return fmt.Errorf("refused: banger-nethelper runs only in the host's user namespace (this one maps %q); run banger outside containers and unshare", strings.TrimSpace(string(b)))
	}
	return nil
}
