// Command testsum reads `go test -json` on stdin and prints what a person
// (and CI's parser) needs: the output of failing tests, go test's own
// package lines ("ok", "FAIL", "?") unchanged, then a skip summary:
//
//	skipped: 2
//	skip: TestDMSnapshotOverlay: dm-snapshot unavailable: no /dev/mapper/control
//	skip: TestRealFirecracker: firecracker binary not found
//
// With -expected FILE and -strict (the default when CI=true), a skip whose
// test name matches no line of FILE fails the run. FILE lists one test
// name or path.Match pattern per line ("TestX", "TestY/*"); text after '#'
// is a comment. Skips whose reason starts with "-short: " (internal/testenv
// under go test -short) are always expected. When anything failed, the last line is go test's "FAIL".
//
// Given the go test arguments after "--", a package whose test binary a
// panic killed is run again without the tests that already ended, so the
// tests after the panicking one still report (see rerun.go).
// The exit status is 1 when a test or package failed or a skip was not
// expected, else 0.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

func main() {
	expected := flag.String("expected", "", "file listing the skips expected on this host")
	strict := flag.Bool("strict", os.Getenv("CI") == "true", "fail on a skip not listed in -expected (default: CI=true)")
	flag.Parse()
	var patterns []string
	if *expected != "" {
		var err error
		if patterns, err = loadPatterns(*expected); err != nil {
			fmt.Fprintln(os.Stderr, "testsum:", err)
			os.Exit(2)
		}
	}
	s := newSummary(os.Stdout)
	if flag.NArg() > 0 {
		// The go test arguments after "--": rerun a package a panic stopped.
		s.args, s.run = flag.Args(), execRunner
	}
	if err := s.read(os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		os.Exit(2)
	}
	s.rerunCrashed()
	os.Exit(s.finish(patterns, *strict))
}

// event is one line of test2json output.
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// shortPrefix starts the reason of a test that skips only because of
// -short (see internal/testenv); such skips are always expected.
const shortPrefix = "-short: "

// skip is one skipped test and the reason it gave.
type skip struct{ pkg, test, reason string }

// summary is the state of one run.
type summary struct {
	w      io.Writer
	bufs   map[string][]string // package + test -> output held until the test ends
	skips  []skip
	failed bool
	// passed and failedTests count top-level tests (subtests are part
	// of their parent) for the closing count line.
	passed, failedTests int
	// crashed maps a package to the top-level tests that panicked in it;
	// ended to every top-level test that ended (for the rerun's -skip).
	crashed map[string][]string
	ended   map[string]map[string]bool
	// args are the go test arguments and run starts go test: set, a
	// package stopped by a panic runs again without the ended tests.
	args []string
	run  runner
}

func newSummary(w io.Writer) *summary {
	return &summary{w: w, bufs: map[string][]string{}, crashed: map[string][]string{}, ended: map[string]map[string]bool{}}
}

// read consumes the event stream; lines that are not JSON are printed as
// they are.
func (s *summary) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(s.w, sc.Text())
			continue
		}
		s.handle(e)
	}
	return sc.Err()
}

func (s *summary) handle(e event) {
	key := e.Package + "\x00" + e.Test
	if e.Test != "" && !strings.Contains(e.Test, "/") && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip") {
		if s.ended[e.Package] == nil {
			s.ended[e.Package] = map[string]bool{}
		}
		s.ended[e.Package][e.Test] = true
	}
	switch {
	case e.Action == "build-output":
		fmt.Fprint(s.w, e.Output)
	case e.Action == "build-fail":
		s.failed = true
	case e.Test == "" && e.Action == "output":
		if strings.HasPrefix(e.Output, "FAIL") {
			s.flushOpen(e.Package)
		}
		if e.Output != "PASS\n" { // go test ./... shows only the "ok" line
			fmt.Fprint(s.w, e.Output)
		}
	case e.Test == "" && e.Action == "fail":
		s.failed = true
		s.flushOpen(e.Package)
	case e.Test == "":
	case e.Action == "output":
		s.noteCrash(e)
		s.bufs[key] = append(s.bufs[key], e.Output)
	case e.Action == "fail":
		if !strings.Contains(e.Test, "/") {
			s.failedTests++
		}
		for _, l := range s.bufs[key] {
			if !isMarker(l) {
				fmt.Fprint(s.w, l)
			}
		}
		delete(s.bufs, key)
	case e.Action == "skip":
		s.skips = append(s.skips, skip{e.Package, e.Test, reason(s.bufs[key])})
		delete(s.bufs, key)
	case e.Action == "pass":
		if !strings.Contains(e.Test, "/") {
			s.passed++
		}
		delete(s.bufs, key)
	}
}

// flushOpen prints the output of pkg's tests that never ended (a timeout
// or a crash killed the test binary).
func (s *summary) flushOpen(pkg string) {
	for k, lines := range s.bufs {
		if strings.HasPrefix(k, pkg+"\x00") {
			fmt.Fprint(s.w, strings.Join(lines, ""))
			delete(s.bufs, k)
		}
	}
}

// isMarker reports go test's "=== RUN" style progress lines, which go test
// does not print without -v.
func isMarker(line string) bool {
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME"} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// reason is the last message a skipped test logged, without its
// "file_test.go:NN: " prefix.
func reason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || isMarker(l) || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		if file, rest, ok := strings.Cut(l, ": "); ok && strings.Contains(file, ".go:") && !strings.Contains(file, " ") {
			l = rest
		}
		return l
	}
	return "(no reason given)"
}

// finish prints the skip summary and returns the exit status.
func (s *summary) finish(patterns []string, strict bool) int {
	fmt.Fprintf(s.w, "skipped: %d\n", len(s.skips))
	var unexpected []skip
	for _, k := range s.skips {
		fmt.Fprintf(s.w, "skip: %s: %s\n", k.test, k.reason)
		if !matches(patterns, k.test) && !strings.HasPrefix(k.reason, shortPrefix) {
			unexpected = append(unexpected, k)
		}
	}
	code := 0
	if strict && len(unexpected) > 0 {
		for _, k := range unexpected {
			fmt.Fprintf(s.w, "unexpected skip: %s (%s): %s: make the test run here or list it in the expected-skips file\n", k.test, k.pkg, k.reason)
		}
		code = 1
	}
	topSkips := 0
	for _, k := range s.skips {
		if !strings.Contains(k.test, "/") {
			topSkips++
		}
	}
	fmt.Fprintf(s.w, "tests: %d passed, %d failed, %d skipped\n", s.passed, s.failedTests, topSkips)
	if s.failed {
		fmt.Fprintln(s.w, "FAIL")
		code = 1
	}
	return code
}

// matches reports whether test matches one of the patterns.
func matches(patterns []string, test string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, test); ok || p == test {
			return true
		}
	}
	return false
}

// loadPatterns reads an expected-skips file.
func loadPatterns(file string) ([]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read expected skips: %w", err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if f := strings.Fields(line); len(f) > 0 {
			if _, err := path.Match(f[0], ""); err != nil {
				return nil, fmt.Errorf("%s: bad pattern %q: %v", file, f[0], err)
			}
			out = append(out, f[0])
		}
	}
	return out, nil
}
