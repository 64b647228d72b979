package e2e

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestReliabilitySecurityFacts (check 10, file side): the socket is 0600 in
// a 0700 directory; every state directory is 0700 and every state file 0600
// (or stricter), the VM's disks included; a VM name created again gets a
// new host key and its old pinned key is gone from banger's known_hosts.
// Uses fakebangerd (real files, no guest). Quick (CI).
//
// The rest of check 10 is elsewhere: the console log cap in
// internal/daemon TestConsoleLogIsCapped; an SSH server presenting another
// key refused by the readiness check and by the system ssh in
// internal/sshkeys TestWaitReadyWrongHostKey and TestSystemSSH; no shell
// below.
func TestReliabilitySecurityFacts(t *testing.T) {
	e := newFakeEnv(t)
	e.MustRun("vm", "create", "--name", "keyed", "--no-wait", "--disk-size", "1G")
	if st, err := os.Stat(e.Socket); err != nil || st.Mode().Type() != fs.ModeSocket || st.Mode().Perm() != 0o600 {
		t.Errorf("socket %s: %v %v, want a 0600 socket", e.Socket, st.Mode(), err)
	}
	if st, _ := os.Stat(filepath.Dir(e.Socket)); st.Mode().Perm() != 0o700 {
		t.Errorf("socket dir mode %v, want 0700", st.Mode().Perm())
	}
	state := filepath.Join(e.Home, "state", "banger")
	files := 0
	_ = filepath.WalkDir(state, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		switch {
		case d.IsDir() && fi.Mode().Perm()&0o077 != 0:
			t.Errorf("state dir %s is %v, want 0700", p, fi.Mode().Perm())
		case fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0:
			t.Errorf("state file %s is %v, want 0600", p, fi.Mode().Perm())
		case fi.Mode().IsRegular():
			files++
		}
		return nil
	})
	figure(t, "state_files_checked", files, "files")
	if files < 4 { // db, log, work disk, overlay at least
		t.Fatalf("only %d state files found under %s", files, state)
	}

	kh := knownHostsFile(t, e)
	first := pinnedKey(t, kh, "keyed.vm")
	if first == "" {
		t.Fatalf("no key pinned for keyed.vm in %s", kh)
	}
	e.MustRun("vm", "delete", "--force", "keyed")
	if k := pinnedKey(t, kh, "keyed.vm"); k != "" {
		t.Fatalf("delete left the pinned key of keyed.vm: %s", k)
	}
	e.MustRun("vm", "create", "--name", "keyed", "--no-wait", "--disk-size", "1G")
	second := pinnedKey(t, kh, "keyed.vm")
	if second == "" || second == first {
		t.Fatalf("recreated keyed.vm pinned %q; want a new key (old %q)", second, first)
	}
	b, _ := os.ReadFile(kh)
	if strings.Contains(string(b), first) {
		t.Fatalf("old host key still in %s", kh)
	}
}

// knownHostsFile finds banger's known_hosts under e's home.
func knownHostsFile(t *testing.T, e *Env) string {
	t.Helper()
	var found string
	_ = filepath.WalkDir(e.Home, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "known_hosts" {
			found = p
		}
		return nil
	})
	if found == "" {
		t.Fatalf("no known_hosts under %s", e.Home)
	}
	return found
}

// pinnedKey returns the key pinned for host in the known_hosts file kh.
func pinnedKey(t *testing.T, kh, host string) string {
	t.Helper()
	b, err := os.ReadFile(kh)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && (f[0] == host || strings.Contains(","+f[0]+",", ","+host+",")) {
			return f[1] + " " + f[2]
		}
	}
	return ""
}

// shells are programs that would interpret a string argument as code.
var shells = map[string]bool{"sh": true, "bash": true, "dash": true, "zsh": true, "/bin/sh": true, "/bin/bash": true,
	"/usr/bin/sh": true, "/usr/bin/bash": true, "/usr/bin/env": true}

// execAllowed are the only non-test files that may start programs
// without internal/execx, with why.
var execAllowed = map[string]string{
	"internal/execx/execx.go":         "the one wrapper: argv only, LANG=C, stderr in errors",
	"internal/detach/detach.go":       "detached daemons and VMMs: argv only",
	"internal/cli/tui.go":             "runs banger/ssh on the terminal from a fixed argv",
	"internal/nethelper/client.go":    "runs the installed helper by path, request on stdin",
	"internal/tools/testsum/rerun.go": "the test summarizer reruns go test and streams its JSON: argv only",
}

// TestReliabilityNoShellReceivesInput (check 10): no Go code outside tests
// builds a shell command line (a shell program followed by "-c"), and only
// the files in execAllowed use os/exec directly; everything else goes
// through internal/execx with an argv. Quick (CI).
func TestReliabilityNoShellReceivesInput(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	checked := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "runtime" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		checked++
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		for _, im := range f.Imports {
			if im.Path.Value == `"os/exec"` && execAllowed[rel] == "" && !strings.HasPrefix(rel, "e2e/") {
				// Only LookPath is harmless; check by reading the calls.
				if usesExecRun(t, p) {
					t.Errorf("%s starts programs with os/exec; use internal/execx (argv only)", rel)
				}
			}
		}
		full, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(full, func(n ast.Node) bool {
			var elts []ast.Expr
			switch n := n.(type) {
			case *ast.CompositeLit:
				elts = n.Elts
			case *ast.CallExpr:
				elts = n.Args
			}
			for i := 0; i+1 < len(elts); i++ {
				a, b := strLit(elts[i]), strLit(elts[i+1])
				if shells[a] && b == "-c" {
					t.Errorf("%s: runs %s -c; pass an argv instead", fset.Position(elts[i].Pos()), a)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	figure(t, "go_files_checked_for_shell", checked, "files")
}

// strLit is the value of a string literal expression, or "".
func strLit(e ast.Expr) string {
	if bl, ok := e.(*ast.BasicLit); ok && bl.Kind == token.STRING {
		s, _ := strconv.Unquote(bl.Value)
		return s
	}
	return ""
}

// usesExecRun reports whether the file at p calls exec.Command or
// exec.CommandContext.
func usesExecRun(t *testing.T, p string) bool {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(b), "exec.Command")
}
