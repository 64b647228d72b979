package namegen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuiltinWordsAreValid(t *testing.T) {
	for _, list := range [][]string{builtinAdjectives, builtinNouns} {
		if len(list) < 90 {
			t.Errorf("word list has %d words, want about 100", len(list))
		}
		if len(dedupe(list)) != len(list) {
			t.Errorf("word list has duplicates")
		}
		for _, w := range list {
			if err := validateWord(w); err != nil {
				t.Error(err)
			}
		}
	}
}

func TestGenerateProducesValidNames(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		name, err := Generate(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := ValidateName(name); err != nil {
			t.Fatalf("generated name fails validation: %v", err)
		}
		if strings.Count(name, "-") != 1 {
			t.Fatalf("name %q is not adjective-noun", name)
		}
		seen[name] = true
	}
	if len(seen) < 150 {
		t.Errorf("only %d distinct names in 200 draws; randomness looks broken", len(seen))
	}
}

func TestGenerateAvoidsTaken(t *testing.T) {
	g, err := NewFromWords([]string{"calm", "brave"}, []string{"otter"})
	if err != nil {
		t.Fatal(err)
	}
	taken := map[string]bool{"calm-otter": true}
	for range 50 {
		name, err := g.Generate(func(n string) bool { return taken[n] })
		if err != nil {
			t.Fatal(err)
		}
		if name != "brave-otter" {
			t.Fatalf("got %q, want the only free pair brave-otter", name)
		}
	}
}

func TestGenerateAppendsNumberWhenAllTaken(t *testing.T) {
	g, err := NewFromWords([]string{"calm"}, []string{"otter"})
	if err != nil {
		t.Fatal(err)
	}
	taken := map[string]bool{"calm-otter": true, "calm-otter-2": true, "calm-otter-3": true}
	name, err := g.Generate(func(n string) bool { return taken[n] })
	if err != nil {
		t.Fatal(err)
	}
	if name != "calm-otter-4" {
		t.Fatalf("got %q, want calm-otter-4", name)
	}
}

func TestGenerateGivesUp(t *testing.T) {
	g, _ := NewFromWords([]string{"calm"}, []string{"otter"})
	_, err := g.Generate(func(string) bool { return true })
	if err == nil || !strings.Contains(err.Error(), "--name") {
		t.Fatalf("want an error suggesting --name, got %v", err)
	}
}

func TestValidateName(t *testing.T) {
	good := []string{"a", "calm-otter", "vm1", "1vm", "a-b-c", strings.Repeat("a", 63), "x--y"}
	for _, n := range good {
		if err := ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q): %v", n, err)
		}
	}
	bad := []string{"", "Calm_Otter", "calm-", "-calm", "calm.otter", "calm otter", "CALM", strings.Repeat("a", 64), "é"}
	for _, n := range bad {
		if err := ValidateName(n); err == nil {
			t.Errorf("ValidateName(%q) accepted an invalid name", n)
		}
	}
	err := ValidateName("Calm_Otter")
	want := `invalid VM name "Calm_Otter": use 1-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if err := Validate("image", "Docker"); err == nil || !strings.HasPrefix(err.Error(), `invalid image name "Docker"`) {
		t.Errorf("Validate(image): %v", err)
	}
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "words.txt")
	content := `# team names
[adjectives]
red   # a colour
blue

[nouns]
fish
fish
`
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if g.Size() != 2 {
		t.Fatalf("Size = %d, want 2 (duplicate noun removed)", g.Size())
	}
	for range 20 {
		name, _ := g.Generate(nil)
		if name != "red-fish" && name != "blue-fish" {
			t.Fatalf("unexpected name %q", name)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"calm\n":                               "words.txt:1: word \"calm\" before any section",
		"[adjectives]\ncalm\n[verbs]\nrun\n":   "words.txt:3: unknown section [verbs]",
		"[adjectives]\nCalm\n[nouns]\notter\n": "words.txt:2: word \"Calm\" is not allowed",
		"[adjectives]\ncalm\n":                 "no nouns",
		"[nouns]\notter\n":                     "no adjectives",
		"[adjectives]\n" + strings.Repeat("a", 21) + "\n[nouns]\nx\n": "too long",
		"[adjectives]\na\n[nouns]\nb\n[nouns]\nc\n":                   "words.txt:5: section [nouns] appears twice",
	}
	for in, want := range cases {
		_, err := Parse(strings.NewReader(in), "words.txt")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want error containing %q", in, err, want)
		}
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "namegen_path") {
		t.Errorf("LoadFile(missing) = %v, want a hint about namegen_path", err)
	}
}
