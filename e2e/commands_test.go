package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigShow checks that `banger config show` prints the effective
// value and the source of each key: the config file, an environment
// override and a default, as text and as JSON.
func TestConfigShow(t *testing.T) {
	e := newEnvAt(t, filepath.Join(t.TempDir(), "no-bundle"), "default_memory_mib = 777\n")
	e.env = append(e.env, "BANGER_MAPDNS_DATA_FILE=/tmp/bgt-records.json")
	var rows []struct {
		Key, Value, Source string
	}
	e.JSON(&rows, "config", "show")
	got := map[string][2]string{}
	for _, r := range rows {
		got[r.Key] = [2]string{r.Value, r.Source}
	}
	for key, want := range map[string][2]string{
		"default_memory_mib": {"777", "config.toml:5"},
		"bridge_name":        {e.Bridge, "config.toml:1"},
		"vm_subnet":          {e.Subnet, "config.toml:2"},
		"mapdns_data_file":   {"/tmp/bgt-records.json", "env BANGER_MAPDNS_DATA_FILE"},
	} {
		g, ok := got[key]
		if !ok || g[0] != want[0] || !strings.Contains(g[1], want[1]) {
			t.Errorf("config show %s = %q (source %q); want %q from %s", key, g[0], g[1], want[0], want[1])
		}
	}
	if g := got["default_vcpus"]; g[0] == "" || g[1] != "default" {
		t.Errorf("config show default_vcpus = %q (source %q); want a default", g[0], g[1])
	}
	out := e.MustRun("config", "show")
	if !strings.Contains(out, "config file: "+e.cfgFile) || !strings.Contains(out, "KEY") || !strings.Contains(out, "default_memory_mib") {
		t.Fatalf("config show text output:\n%s", out)
	}
}

// TestDoctor checks that `banger doctor` answers through the daemon with a
// row per area, exits 1 exactly when a row is missing, and names the
// missing bundle of this env.
func TestDoctor(t *testing.T) {
	e := newEnvAt(t, filepath.Join(t.TempDir(), "no-bundle"), "")
	r := e.Run("--output", "json", "doctor")
	if r.Code != 0 && r.Code != 1 {
		t.Fatalf("doctor: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	var checks []struct {
		Area, Name, Detail string
		OK                 bool
	}
	if err := json.Unmarshal([]byte(r.Stdout), &checks); err != nil {
		t.Fatalf("doctor --output json: %v\n%s", err, r.Stdout)
	}
	areas := map[string]bool{}
	missing := 0
	for _, c := range checks {
		areas[c.Area] = true
		if !c.OK {
			missing++
		}
		if c.Area == "bundle" && c.Name == "runtime dir" && (c.OK || !strings.Contains(c.Detail, "no-bundle")) {
			t.Errorf("doctor bundle row for a missing bundle: %+v", c)
		}
	}
	for _, a := range []string{"vmm", "bundle", "storage", "network", "dns", "ssh"} {
		if !areas[a] {
			t.Errorf("doctor has no %q rows: %+v", a, checks)
		}
	}
	if missing == 0 || r.Code != 1 {
		t.Errorf("doctor with a missing bundle: %d missing rows, exit %d; want some and exit 1", missing, r.Code)
	}
	text := e.Run("doctor")
	if text.Code != r.Code || !strings.Contains(text.Stdout, "MISSING") || !strings.Contains(text.Stdout, "AREA") {
		t.Errorf("doctor text: exit %d\n%s", text.Code, text.Stdout)
	}
}
