package daemon

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/bangerdev/banger/internal/execx"
	"github.com/bangerdev/banger/internal/model"
	"github.com/bangerdev/banger/internal/sshclient"
	"github.com/bangerdev/banger/scripts"
)

// provisionScript returns the root script that provisions a builder VM:
// `customize.sh --print` with the packages (and --docker). It runs the
// bundle's customize.sh (bundle.json helpers.customize) so a bundle's recipe
// is the one used, else the copy built into banger.
func (m *images) provisionScript(ctx context.Context, pkgs []string, docker bool) ([]byte, error) {
	script := ""
	if m.bundle != nil {
		script = m.bundle.Helpers["customize"]
	}
	if script != "" {
		if _, err := os.Stat(script); err != nil {
			m.log.Warn("bundle customize.sh missing; using banger's own", "path", script)
			script = ""
		}
	}
	if script == "" {
		dir, err := os.MkdirTemp(m.stateDir, "customize-")
		if err != nil {
			return nil, fmt.Errorf("stage customize.sh: %w", err)
		}
		defer os.RemoveAll(dir)
		for _, f := range []string{"customize.sh", "packages.sh"} {
			b, err := scripts.FS.ReadFile(f)
			if err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o755); err != nil {
				return nil, fmt.Errorf("stage customize.sh: %w", err)
			}
		}
		script = filepath.Join(dir, "customize.sh")
	}
	args := []string{"bash", script}
	for _, p := range pkgs {
		args = append(args, "--package", p)
	}
	if docker {
		args = append(args, "--docker")
	}
	args = append(args, "--print")
	out, err := execx.Run(ctx, execx.Cmd{Args: args, Env: []string{"BANGER_STATE_DIR=" + m.stateDir}})
	if err != nil {
		return nil, fmt.Errorf("image build: %s --print: %w", script, err)
	}
	return out, nil
}

// runGuestScript feeds script to `bash -s` as root in the guest; a non-zero
// exit is an error carrying the output's last lines.
func (m *images) runGuestScript(ctx context.Context, v *model.VM, what string, script io.Reader) error {
	var out bytes.Buffer
	code, err := sshclient.Exec(ctx, m.guests.sshTarget(v), "bash -s", script, &out, &out)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if code != 0 {
		return fmt.Errorf("%s exited %d:\n%s", what, code, lastLines(out.String(), 15))
	}
	return nil
}
