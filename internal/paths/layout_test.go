package paths

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestResolveDefaults(t *testing.T) {
	l, err := Resolve(envOf(map[string]string{"HOME": "/home/u", "XDG_RUNTIME_DIR": "/run/user/1000"}))
	if err != nil {
		t.Fatal(err)
	}
	want := Layout{
		ConfigDir:   "/home/u/.config/banger",
		StateDir:    "/home/u/.local/state/banger",
		StateSource: "default",
		CacheDir:    "/home/u/.cache/banger",
		RunDir:      "/run/user/1000/banger",
		SocketPath:  "/run/user/1000/banger/bangerd.sock",
		ConfigFile:  "/home/u/.config/banger/config.toml",
		DBPath:      "/home/u/.local/state/banger/banger.db",
		VMsDir:      "/home/u/.local/state/banger/vms",
		ImagesDir:   "/home/u/.local/state/banger/images",
		LogFile:     "/home/u/.local/state/banger/bangerd.log",
	}
	if l != want {
		t.Fatalf("got  %+v\nwant %+v", l, want)
	}
}

func TestResolveXDGAndOverrides(t *testing.T) {
	env := map[string]string{
		"HOME":            "/home/u",
		"XDG_CONFIG_HOME": "/x/config",
		"XDG_STATE_HOME":  "/x/state",
		"XDG_CACHE_HOME":  "relative/cache", // ignored: not absolute
	}
	l, err := Resolve(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if l.ConfigDir != "/x/config/banger" || l.StateDir != "/x/state/banger" || l.StateSource != "env XDG_STATE_HOME" {
		t.Errorf("XDG dirs not honoured: %+v", l)
	}
	if l.CacheDir != "/home/u/.cache/banger" {
		t.Errorf("relative XDG_CACHE_HOME should be ignored, got %s", l.CacheDir)
	}
	if l.RunDir != "/x/state/banger/run" {
		t.Errorf("without XDG_RUNTIME_DIR the socket dir should be under the state dir, got %s", l.RunDir)
	}

	env["BANGER_STATE_DIR"] = "/srv/banger-state/"
	l, err = Resolve(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if l.StateDir != "/srv/banger-state" || l.StateSource != "env BANGER_STATE_DIR" || l.DBPath != "/srv/banger-state/banger.db" {
		t.Errorf("BANGER_STATE_DIR not honoured: %+v", l)
	}

	env["BANGER_STATE_DIR"] = "rel/state"
	if _, err := Resolve(envOf(env)); err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("relative BANGER_STATE_DIR: got %v, want an error asking for an absolute path", err)
	}
}

func TestResolveLongStateDirFallsBackToTmp(t *testing.T) {
	long := "/" + strings.Repeat("s", 100)
	l, err := Resolve(envOf(map[string]string{"HOME": "/home/u", "BANGER_STATE_DIR": long}))
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(os.TempDir(), "banger-"+strconv.Itoa(os.Geteuid()))
	if l.RunDir != want {
		t.Errorf("RunDir = %s, want %s", l.RunDir, want)
	}
	if len(l.SocketPath) > MaxSocketPath {
		t.Errorf("socket path still too long: %d bytes", len(l.SocketPath))
	}
}

func TestResolveLongRuntimeDirFallsBack(t *testing.T) {
	long := "/" + strings.Repeat("r", 100)
	l, err := Resolve(envOf(map[string]string{"HOME": "/home/u", "XDG_RUNTIME_DIR": long}))
	if err != nil {
		t.Fatal(err)
	}
	if l.RunDir != "/home/u/.local/state/banger/run" {
		t.Errorf("RunDir = %s, want the state-dir fallback", l.RunDir)
	}
}

func TestLayoutEnsure(t *testing.T) {
	root := t.TempDir()
	l, err := Resolve(envOf(map[string]string{"HOME": root}))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Ensure(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{l.ConfigDir, l.StateDir, l.CacheDir, l.VMsDir, l.ImagesDir, l.RunDir} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("%s has mode %v, want 0700", d, fi.Mode().Perm())
		}
	}
}
