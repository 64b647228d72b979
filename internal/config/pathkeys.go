package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
)

// valueCtx is what path keys need to resolve their values.
type valueCtx struct {
	configDir string
	home      string
	env       func(string) string
}

// existence says what a path key's target must be at load time.
type existence int

const (
	mayBeMissing existence = iota
	mustBeFile
	mustBeDir
)

// pathKey is a key holding a path: "~" expands to the home directory and a
// relative path resolves against the config file's directory.
func pathKey(name string, field *string, must existence, unset string) key {
	return key{
		name: name,
		set: func(v any, ctx *valueCtx) error {
			s, err := asString(v, `"~/path"`)
			if err != nil {
				return err
			}
			p, err := ctx.resolve(s)
			if err != nil {
				return err
			}
			if err := checkExists(p, must); err != nil {
				return err
			}
			*field = p
			return nil
		},
		show:  func() string { return *field },
		unset: unset,
	}
}

// programKey is a key holding a program: a bare name (no '/') is looked up
// in PATH, anything else is a path as for pathKey. Either way it must exist
// and be executable.
func programKey(name string, field *string, unset string) key {
	return key{
		name: name,
		set: func(v any, ctx *valueCtx) error {
			s, err := asString(v, `"/usr/local/bin/`+strings.TrimSuffix(name, "_bin")+`"`)
			if err != nil {
				return err
			}
			if s != "" && !strings.Contains(s, "/") {
				if _, err := lookPath(s, ctx.env("PATH")); err != nil {
					return err
				}
				*field = s
				return nil
			}
			p, err := ctx.resolve(s)
			if err != nil {
				return err
			}
			if err := checkExecutable(p); err != nil {
				return err
			}
			*field = p
			return nil
		},
		show:  func() string { return *field },
		unset: unset,
	}
}

// resolve expands "~" and makes s absolute against the config directory.
func (ctx *valueCtx) resolve(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty path: remove the key to use the default")
	}
	if s == "~" || strings.HasPrefix(s, "~/") {
		if ctx.home == "" {
			return "", errors.New("cannot expand ~: HOME is not set; use an absolute path")
		}
		s = filepath.Join(ctx.home, s[1:])
	} else if strings.HasPrefix(s, "~") {
		return "", fmt.Errorf("%q: only ~ and ~/ are expanded; use an absolute path", s)
	}
	if !filepath.IsAbs(s) {
		s = filepath.Join(ctx.configDir, s)
	}
	return filepath.Clean(s), nil
}

func checkExists(p string, must existence) error {
	if must == mayBeMissing {
		return nil
	}
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s does not exist: fix the path, or remove the key to use the default", p)
	}
	if err != nil {
		return fmt.Errorf("cannot check %s: %v", p, err)
	}
	if must == mustBeDir && !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", p)
	}
	if must == mustBeFile && fi.IsDir() {
		return fmt.Errorf("%s is a directory, not a file", p)
	}
	return nil
}

func checkExecutable(p string) error {
	if err := checkExists(p, mustBeFile); err != nil {
		return err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not executable: chmod +x it", p)
	}
	return nil
}

// lookPath finds name in the PATH value pathEnv (from the injected
// environment, so tests do not depend on the process's PATH).
func lookPath(name, pathEnv string) (string, error) {
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s was not found in PATH: install it or give its absolute path", name)
}

// homeDir returns HOME from env, else the user database's home.
func homeDir(env func(string) string) (string, error) {
	if h := env("HOME"); filepath.IsAbs(h) {
		return filepath.Clean(h), nil
	}
	u, err := user.Current()
	if err != nil {
		return "", err
	}
	return u.HomeDir, nil
}
