// Package paths computes where banger keeps its files (XDG base
// directories), where the daemon socket lives, and where the runtime bundle
// is, and creates private directories safely.
package paths

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
)

// MaxSocketPath is the longest usable unix socket path on Linux: sun_path
// holds 108 bytes including the terminating NUL.
const MaxSocketPath = 107

// Environment variables paths reads.
const (
	EnvStateDir   = "BANGER_STATE_DIR"
	EnvRuntimeDir = "BANGER_RUNTIME_DIR"
)

// Layout is the set of directories and files banger uses for one user.
type Layout struct {
	// ConfigDir holds config.toml and the user's ssh key (ssh/).
	ConfigDir string
	// StateDir holds the database, VM and image files, and the daemon log.
	StateDir string
	// StateSource says where StateDir came from: "default",
	// "env XDG_STATE_HOME" or "env BANGER_STATE_DIR".
	StateSource string
	// CacheDir holds downloads and other files that can be recreated.
	CacheDir string
	// RunDir is the private (0700) directory holding the daemon socket.
	RunDir string
	// SocketPath is the daemon's unix socket.
	SocketPath string
	// ConfigFile is config.toml inside ConfigDir.
	ConfigFile string
	// DBPath is the SQLite database.
	DBPath string
	// VMsDir holds one directory per VM.
	VMsDir string
	// ImagesDir holds the managed images.
	ImagesDir string
	// LogFile is the daemon log.
	LogFile string
}

// Default resolves the layout from the process environment.
func Default() (Layout, error) { return Resolve(os.Getenv) }

// Resolve computes the layout from the environment read through getenv
// (os.Getenv in production): XDG_CONFIG_HOME, XDG_STATE_HOME,
// XDG_CACHE_HOME, XDG_RUNTIME_DIR, BANGER_STATE_DIR and HOME. Relative XDG
// values are ignored, as the XDG spec asks. It creates nothing; call Ensure
// for that.
func Resolve(getenv func(string) string) (Layout, error) {
	home, err := homeDir(getenv)
	if err != nil {
		return Layout{}, err
	}
	var l Layout
	l.ConfigDir = filepath.Join(xdg(getenv, "XDG_CONFIG_HOME", filepath.Join(home, ".config")), "banger")
	l.CacheDir = filepath.Join(xdg(getenv, "XDG_CACHE_HOME", filepath.Join(home, ".cache")), "banger")
	l.StateDir = filepath.Join(home, ".local", "state", "banger")
	l.StateSource = "default"
	if v := getenv("XDG_STATE_HOME"); filepath.IsAbs(v) {
		l.StateDir = filepath.Join(v, "banger")
		l.StateSource = "env XDG_STATE_HOME"
	}
	if v := getenv(EnvStateDir); v != "" {
		if !filepath.IsAbs(v) {
			return Layout{}, fmt.Errorf("%s=%q is not an absolute path: set it to an absolute directory or unset it", EnvStateDir, v)
		}
		l.StateDir = filepath.Clean(v)
		l.StateSource = "env " + EnvStateDir
	}
	l.ConfigFile = filepath.Join(l.ConfigDir, "config.toml")
	l.DBPath = filepath.Join(l.StateDir, "banger.db")
	l.VMsDir = filepath.Join(l.StateDir, "vms")
	l.ImagesDir = filepath.Join(l.StateDir, "images")
	l.LogFile = filepath.Join(l.StateDir, "bangerd.log")
	l.RunDir, err = runDir(getenv, l.StateDir, os.Geteuid())
	if err != nil {
		return Layout{}, err
	}
	l.SocketPath = filepath.Join(l.RunDir, socketName)
	return l, nil
}

const socketName = "bangerd.sock"

// runDir picks the socket directory: $XDG_RUNTIME_DIR/banger, else
// <state>/run, else (when that socket path would be too long)
// /tmp/banger-<uid>, which must not belong to someone else.
func runDir(getenv func(string) string, stateDir string, uid int) (string, error) {
	if v := getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(v) {
		dir := filepath.Join(v, "banger")
		if len(filepath.Join(dir, socketName)) <= MaxSocketPath {
			return dir, nil
		}
	}
	dir := filepath.Join(stateDir, "run")
	if len(filepath.Join(dir, socketName)) <= MaxSocketPath {
		return dir, nil
	}
	dir = filepath.Join(os.TempDir(), "banger-"+strconv.Itoa(uid))
	if err := checkPrivateDir(dir, uid); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	return dir, nil
}

// xdg returns the XDG variable's value when it is an absolute path, else def.
func xdg(getenv func(string) string, name, def string) string {
	if v := getenv(name); filepath.IsAbs(v) {
		return filepath.Clean(v)
	}
	return def
}

func homeDir(getenv func(string) string) (string, error) {
	if h := getenv("HOME"); filepath.IsAbs(h) {
		return filepath.Clean(h), nil
	}
	u, err := user.Current()
	if err == nil && filepath.IsAbs(u.HomeDir) {
		return u.HomeDir, nil
	}
	return "", errors.New("cannot find the home directory: HOME is unset and the user database has none; set HOME")
}

// Ensure creates the layout's directories with private permissions (0700),
// tightening existing ones, and checks that the socket directory belongs to
// the current user.
func (l Layout) Ensure() error {
	for _, d := range []string{l.ConfigDir, l.StateDir, l.CacheDir, l.VMsDir, l.ImagesDir} {
		if err := EnsureDir(d, 0o700); err != nil {
			return err
		}
	}
	return EnsurePrivateDir(l.RunDir)
}
