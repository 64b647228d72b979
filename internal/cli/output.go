package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bangerdev/banger/internal/api"
	"github.com/bangerdev/banger/internal/units"
)

var execLookPath = exec.LookPath

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// render prints v as JSON with --output json, else calls text.
func (e *Env) render(v any, text func(w io.Writer) error) error {
	if e.Output == "json" {
		return printJSON(e.Out, v)
	}
	return text(e.Out)
}

// table writes rows aligned in columns.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// kv writes "key: value" lines aligned.
func kv(w io.Writer, pairs [][2]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	for _, p := range pairs {
		fmt.Fprintf(tw, "%s:\t%s\n", p[0], p[1])
	}
	return tw.Flush()
}

// age renders the time since t like "3m", "2h", "5d".
func (e *Env) age(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	return shortDuration(now().Sub(t))
}

func shortDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// progressPrinter renders a stream of daemon events as numbered steps.
func (e *Env) progressPrinter() func(api.Event) {
	if e.Output == "json" {
		return func(api.Event) {}
	}
	return func(ev api.Event) {
		switch ev.Kind {
		case api.EventStep:
			fmt.Fprintf(e.Err, "[%d/%d] %s\n", ev.Index, ev.Total, ev.Step)
		case api.EventLog:
			fmt.Fprintf(e.Err, "      %s\n", ev.Message)
		case api.EventProgress:
			if ev.Size > 0 {
				fmt.Fprintf(e.Err, "      %s / %s\n", units.HumanSize(ev.Done), units.HumanSize(ev.Size))
			}
		}
	}
}

func shortDurationSeconds(s float64) string {
	return shortDuration(time.Duration(s * float64(time.Second)))
}
