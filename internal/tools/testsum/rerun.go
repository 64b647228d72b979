package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
)

// A test that panics kills its package's test binary: the tests after it
// never run and a summary of that run would hide them. testsum remembers
// which test panicked and, when it knows the go test arguments, runs the
// package again without the tests that already ended (passed, failed,
// skipped or panicked), reading that run into the same summary. A package
// is run again at most maxReruns times.
const maxReruns = 3

// runner starts `go test -json` with args and returns its output stream
// and a wait function.
type runner func(args []string) (io.Reader, func() error, error)

// execRunner runs the go command named by $GO (default "go").
func execRunner(args []string) (io.Reader, func() error, error) {
	goCmd := os.Getenv("GO")
	if goCmd == "" {
		goCmd = "go"
	}
	cmd := exec.Command(goCmd, append([]string{"test", "-json"}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	return out, cmd.Wait, nil
}

// valueFlags are the go test flags whose value may be the next argument.
var valueFlags = map[string]bool{
	"run": true, "skip": true, "timeout": true, "count": true, "p": true, "parallel": true, "tags": true,
	"bench": true, "benchtime": true, "cpu": true, "fuzz": true, "fuzztime": true, "coverprofile": true,
	"o": true, "exec": true, "ldflags": true, "gcflags": true, "list": true, "shuffle": true,
}

// flagsOnly returns args without its package arguments (the ones that are
// neither a flag nor a flag's separate value).
func flagsOnly(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			continue
		}
		out = append(out, a)
		name := strings.TrimLeft(a, "-")
		if !strings.Contains(name, "=") && valueFlags[name] && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
	}
	return out
}

// noteCrash records that the top-level test of e panicked.
func (s *summary) noteCrash(e event) {
	if !strings.HasPrefix(e.Output, "panic: ") || strings.HasPrefix(e.Output, "panic: test timed out") {
		return
	}
	top, _, _ := strings.Cut(e.Test, "/")
	for _, c := range s.crashed[e.Package] {
		if c == top {
			return
		}
	}
	s.crashed[e.Package] = append(s.crashed[e.Package], top)
}

// rerunCrashed runs each package whose binary a panic killed again without
// the tests that already ended, until no new panic or maxReruns.
func (s *summary) rerunCrashed() {
	if s.run == nil {
		return
	}
	for round := 0; round < maxReruns && len(s.crashed) > 0; round++ {
		pkgs := make([]string, 0, len(s.crashed))
		for p := range s.crashed {
			pkgs = append(pkgs, p)
		}
		sort.Strings(pkgs)
		s.crashed = map[string][]string{}
		for _, pkg := range pkgs {
			done := s.ended[pkg]
			names := make([]string, 0, len(done))
			for n := range done {
				names = append(names, regexp.QuoteMeta(n))
			}
			sort.Strings(names)
			skip := "^(" + strings.Join(names, "|") + ")$"
			fmt.Fprintf(s.w, "testsum: a panic stopped %s; running its remaining tests (-skip %s)\n", pkg, skip)
			args := append(flagsOnly(s.args), "-skip", skip, pkg)
			r, wait, err := s.run(args)
			if err != nil {
				fmt.Fprintf(s.w, "testsum: rerun %s: %v\n", pkg, err)
				s.failed = true
				continue
			}
			if err := s.read(r); err != nil {
				fmt.Fprintf(s.w, "testsum: rerun %s: %v\n", pkg, err)
			}
			_ = wait() // the package's own pass/fail events carry the result
		}
	}
}
