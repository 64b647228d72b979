package namegen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "names")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadFileRunsAProgram(t *testing.T) {
	// The program counts its runs in a file so each name differs.
	counter := filepath.Join(t.TempDir(), "n")
	g, err := LoadFile(script(t, `n=$(cat "`+counter+`" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "`+counter+`"; echo "  box-$n  "`))
	if err != nil {
		t.Fatal(err)
	}
	name, err := g.Generate(nil)
	if err != nil || name != "box-1" {
		t.Fatalf("Generate = %q, %v; want box-1 (stdout trimmed)", name, err)
	}
	// A taken name makes banger ask the program again.
	name, err = g.Generate(func(s string) bool { return s == "box-2" })
	if err != nil || name != "box-3" {
		t.Fatalf("Generate with box-2 taken = %q, %v; want box-3", name, err)
	}
}

func TestProgramAlwaysTakenIsNumbered(t *testing.T) {
	g, err := LoadFile(script(t, "echo web"))
	if err != nil {
		t.Fatal(err)
	}
	name, err := g.Generate(func(s string) bool { return s == "web" || s == "web-2" })
	if err != nil || name != "web-3" {
		t.Fatalf("Generate = %q, %v; want web-3", name, err)
	}
}

func TestProgramErrors(t *testing.T) {
	cases := map[string]string{
		"echo 'no words left' >&2; exit 4": "name program failed: ",
		"echo Bad_Name":                    `printed an unusable name: invalid VM name "Bad_Name"`,
		"true":                             `printed an unusable name: invalid VM name ""`,
	}
	for body, want := range cases {
		g, err := LoadFile(script(t, body))
		if err != nil {
			t.Fatal(err)
		}
		_, err = g.Generate(nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", body, err, want)
		}
	}
	g, _ := LoadFile(script(t, "echo 'no words left' >&2; exit 4"))
	if _, err := g.Generate(nil); err == nil || !strings.Contains(err.Error(), "no words left") || !strings.Contains(err.Error(), "--name") {
		t.Errorf("failure does not carry stderr and the next step: %v", err)
	}
}

func TestExecutableWordListIsStillAWordList(t *testing.T) {
	path := filepath.Join(t.TempDir(), "words.txt")
	if err := os.WriteFile(path, []byte("[adjectives]\nred\n[nouns]\nfox\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	g, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if name, err := g.Generate(nil); err != nil || name != "red-fox" {
		t.Fatalf("Generate = %q, %v", name, err)
	}
}
