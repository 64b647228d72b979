// Command bangerd is banger's daemon: it owns VM state and host resources
// and serves the /v1/ API on a unix socket. The banger CLI starts it on
// first use; VMs keep running when it stops.
package main

import (
	"os"

	"github.com/bangerdev/banger/internal/daemon"
)

func main() {
	os.Exit(daemon.Main("bangerd", os.Args[1:], os.Stderr, nil))
}
