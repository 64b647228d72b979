package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/sshclient"
	"github.com/bangerdev/banger/internal/sshkeys"
)

// SSHConfigOptions are the flags of `banger ssh-config`.
type SSHConfigOptions struct {
	// Install writes the block to ~/.ssh/banger.conf and includes it.
	Install bool
}

func newSSHConfigCmd(e *Env, runF func(*SSHConfigOptions) error) *cobra.Command {
	o := &SSHConfigOptions{}
	cmd := noArgsCmd("ssh-config", "Print an ssh_config block so plain 'ssh NAME.vm' works through banger, no host DNS needed (--install adds it to ~/.ssh/config)", func(cmd *cobra.Command) error {
		return runWith(cmd, e, o, runF, sshConfigRun)
	})
	cmd.Flags().BoolVar(&o.Install, "install", false, "write ~/.ssh/banger.conf and Include it at the top of ~/.ssh/config")
	return cmd
}

func sshConfigRun(_ context.Context, e *Env, o *SSHConfigOptions) error {
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	proxy := e.Exe
	if proxy == "" {
		proxy = "banger"
	}
	block := sshclient.ConfigBlock(sshclient.Options{KeyPath: cfg.SSHKeyPath, KnownHosts: sshkeys.KnownHostsFor(cfg.SSHKeyPath), Proxy: proxy})
	if !o.Install {
		_, err := io.WriteString(e.Out, block)
		return err
	}
	path, err := installSSHConfig(e.Getenv("HOME"), block)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Out, "wrote %s and included it from ~/.ssh/config; try 'ssh NAME.vm'\n", path)
	return nil
}

// installSSHConfig writes block to ~/.ssh/banger.conf and makes sure
// ~/.ssh/config includes it first (ssh takes the first value it sees).
func installSSHConfig(home, block string) (string, error) {
	if home == "" {
		return "", errors.New("HOME is not set; print the block with 'banger ssh-config' and add it yourself")
	}
	dir := filepath.Join(home, ".ssh")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "banger.conf")
	if err := os.WriteFile(path, []byte(block), 0o600); err != nil {
		return "", err
	}
	main := filepath.Join(dir, "config")
	cur, err := os.ReadFile(main)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	include := "Include " + path
	if strings.Contains(string(cur), include) {
		return path, nil
	}
	next := include + "\n\n" + string(cur)
	if err := os.WriteFile(main, []byte(next), 0o600); err != nil {
		return "", err
	}
	return path, nil
}
