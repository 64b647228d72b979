// Command banger is the CLI (and TUI) for persistent development microVMs.
// It talks to the bangerd daemon, starting it on first use.
package main

import (
	"os"

	"github.com/bangerdev/banger/internal/cli"
	"github.com/bangerdev/banger/internal/paths"
)

func main() {
	paths.EnsureSbinInPath()
	os.Exit(cli.Main(os.Args[1:]))
}
