package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/bangerdev/banger/internal/config"
)

func newConfigCmd(e *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Inspect banger's configuration"}
	cmd.AddCommand(newConfigShowCmd(e, nil))
	return cmd
}

func newConfigShowCmd(e *Env, runF func(*NoArgsOptions) error) *cobra.Command {
	return noArgsCmd("show", "Print the effective configuration and where each value came from", func(cmd *cobra.Command) error {
		return runWith(cmd, e, &NoArgsOptions{}, runF, configShowRun)
	})
}

func configShowRun(_ context.Context, e *Env, _ *NoArgsOptions) error {
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	if err := cfg.ResolveRuntimeDir(e.Exe); err != nil {
		cfg.Sources["runtime_dir"] = "unresolved: " + err.Error()
	}
	rows := cfg.Rows()
	return e.render(rows, func(w io.Writer) error {
		fmt.Fprintf(w, "config file: %s\n", cfg.File)
		out := make([][]string, 0, len(rows))
		for _, r := range rows {
			out = append(out, []string{r.Key, dash(r.Value), r.Source})
		}
		return table(w, []string{"KEY", "VALUE", "SOURCE"}, out)
	})
}

// loadConfig reads config.toml of the current layout.
func (e *Env) loadConfig() (*config.Config, error) {
	l, err := e.layout()
	if err != nil {
		return nil, err
	}
	return config.Load(l.ConfigFile, e.Getenv)
}
