package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPanicDoesNotHideTheRest: a real go test run where the second of
// four tests panics (in a subtest). The first run stops at the panic;
// testsum runs the package again without the ended tests, so the tests
// after the panic report: the summary counts all four, shows the panic,
// and the exit status is a failure.
func TestPanicDoesNotHideTheRest(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module pan\n\ngo 1.22\n",
		"a_test.go": `package pan

import "testing"

func TestA(t *testing.T) {}
func TestB(t *testing.T) { t.Run("sub", func(t *testing.T) { var s []int; _ = s[len(s)-1] }) }
func TestC(t *testing.T) { t.Log("c ran") }
func TestD(t *testing.T) { t.Skip("d skips") }
func TestE(t *testing.T) { t.Error("e fails after the panic") }
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	runIn := func(args []string) (*bytes.Buffer, func() error, error) {
		cmd := exec.Command("go", append([]string{"test", "-json"}, args...)...)
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout = &out
		err := cmd.Run()
		return &out, func() error { return err }, nil
	}
	args := []string{"-count=1", "-run", "Test", "./..."}
	first, _, _ := runIn(args)

	var out bytes.Buffer
	s := newSummary(&out)
	var rerunArgs [][]string
	s.args = args
	s.run = func(a []string) (r io.Reader, wait func() error, err error) {
		rerunArgs = append(rerunArgs, a)
		b, w, e := runIn(a)
		return b, w, e
	}
	if err := s.read(first); err != nil {
		t.Fatal(err)
	}
	s.rerunCrashed()
	code := s.finish(nil, false)
	got := out.String()
	if len(rerunArgs) != 1 || strings.Join(rerunArgs[0], " ") != "-count=1 -run Test -skip ^(TestA|TestB)$ pan" {
		t.Fatalf("rerun args %q", rerunArgs)
	}
	for _, want := range []string{
		"panic: runtime error: index out of range [-1]",
		"testsum: a panic stopped pan; running its remaining tests",
		"e fails after the panic",
		"skip: TestD: d skips",
		"tests: 2 passed, 2 failed, 1 skipped\nFAIL\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
}

func TestFlagsOnly(t *testing.T) {
	got := flagsOnly([]string{"-short", "./...", "-run", "TestX/y", "-count=1", "./e2e", "-timeout", "10m", "github.com/x/y"})
	if strings.Join(got, " ") != "-short -run TestX/y -count=1 -timeout 10m" {
		t.Errorf("flagsOnly = %q", got)
	}
}
