package config

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Row is one line of `banger config show`.
type Row struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"`
}

// Rows returns every key with its effective value and source, followed by
// the environment-only state_dir and the derived cache_dir.
func (c *Config) Rows() []Row {
	var rows []Row
	for _, k := range c.keys() {
		v := k.show()
		if v == "" {
			v = k.unset
		}
		rows = append(rows, Row{Key: k.name, Value: v, Source: c.source(k.name)})
	}
	rows = append(rows,
		Row{Key: "state_dir", Value: c.StateDir, Source: c.source("state_dir") + " (set " + EnvStateDir + " to change)"},
		Row{Key: "cache_dir", Value: c.CacheDir, Source: "XDG layout"},
	)
	return rows
}

func (c *Config) source(name string) string {
	if s := c.Sources[name]; s != "" {
		return s
	}
	return SourceDefault
}

// Render writes the rows as an aligned KEY VALUE SOURCE table, preceded by
// the config file's path.
func (c *Config) Render(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "# %s\n", c.File); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVALUE\tSOURCE")
	for _, r := range c.Rows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Key, r.Value, r.Source)
	}
	return tw.Flush()
}
