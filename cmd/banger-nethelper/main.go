// Command banger-nethelper makes the network changes an ordinary user's
// bangerd cannot: the user's bridge, taps owned by the user, the user's
// firewall table, IP forwarding and the DNS sockets on the bridge address.
// `sudo banger system install` installs it with CAP_NET_ADMIN and
// CAP_NET_BIND_SERVICE, runnable by the banger group only. It reads one
// JSON request on stdin and answers on stdout; see internal/nethelper for
// what it checks. It takes nothing from its environment.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/bangerdev/banger/internal/nethelper"
	"github.com/bangerdev/banger/internal/system"
)

func main() {
	os.Clearenv()
	os.Setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
	resp := run()
	_ = json.NewEncoder(os.Stdout).Encode(resp)
	if resp.Error != "" {
		os.Exit(1)
	}
}

func run() nethelper.Response {
	uid := os.Getuid()
	if uid == 0 {
		return nethelper.Response{Error: "banger-nethelper is for ordinary users; root's bangerd changes the network itself"}
	}
	alloc, err := system.LoadForUID(uid)
	if err != nil {
		return nethelper.Response{Error: err.Error()}
	}
	b, err := io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
	if err != nil {
		return nethelper.Response{Error: fmt.Sprintf("read request: %v", err)}
	}
	var req nethelper.Request
	if err := json.Unmarshal(b, &req); err != nil {
		return nethelper.Response{Error: fmt.Sprintf("invalid request: %v", err)}
	}
	var fdOut *os.File
	if req.Op == nethelper.OpDNSSockets {
		fdOut = os.NewFile(3, "reply")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	return nethelper.Serve(ctx, nethelper.RealHost(uid, os.Getgid()), alloc, req, fdOut)
}
