// Package namegen generates friendly VM names such as "calm-otter" and
// validates user-chosen VM and image names.
//
// The built-in word lists can be replaced with a word-list file (config key
// namegen_path). Its format is one word per line in two sections:
//
//	# my names
//	[adjectives]
//	calm
//	brave
//
//	[nouns]
//	otter
//	heron
//
// Blank lines and lines starting with '#' are ignored; text after '#' on a
// word line is a comment too. Words must be lowercase letters, digits and
// inner hyphens, at most 20 characters, and both sections must be present
// and non-empty. Names are "<adjective>-<noun>".
package namegen

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
)

// maxWordLen keeps "<adjective>-<noun>-<number>" well inside a DNS label.
const maxWordLen = 20

// randomTries is how many random pairs Generate draws before it falls back
// to appending a number.
const randomTries = 64

// maxSuffix bounds the numbered fallback.
const maxSuffix = 100000

// Generator draws adjective-noun names from its word lists.
type Generator struct {
	adjectives []string
	nouns      []string
	// intn returns a random int in [0, n); replaced in tests.
	intn func(n int) int
	// program, when set, is run for each name instead of the word lists.
	program string
}

// New returns a Generator over the built-in word lists.
func New() *Generator {
	return &Generator{adjectives: builtinAdjectives, nouns: builtinNouns, intn: rand.IntN}
}

// NewFromWords returns a Generator over the given lists after validating
// every word (see the package documentation for the rules).
func NewFromWords(adjectives, nouns []string) (*Generator, error) {
	if len(adjectives) == 0 || len(nouns) == 0 {
		return nil, errors.New("word lists need at least one adjective and one noun")
	}
	for _, list := range [][]string{adjectives, nouns} {
		for _, w := range list {
			if err := validateWord(w); err != nil {
				return nil, err
			}
		}
	}
	return &Generator{adjectives: dedupe(adjectives), nouns: dedupe(nouns), intn: rand.IntN}, nil
}

// Generate returns a name that taken reports as free: a random
// adjective-noun pair, or after many collisions a pair with a number
// appended ("calm-otter-2"). taken may be nil.
func (g *Generator) Generate(taken func(string) bool) (string, error) {
	if taken == nil {
		taken = func(string) bool { return false }
	}
	if g.program != "" {
		return g.generateFromProgram(taken)
	}
	for range randomTries {
		name := g.pair()
		if !taken(name) {
			return name, nil
		}
	}
	base := g.pair()
	for i := 2; i <= maxSuffix; i++ {
		name := base + "-" + strconv.Itoa(i)
		if !taken(name) {
			return name, nil
		}
	}
	return "", fmt.Errorf("could not find a free name after %d attempts: pass --name explicitly", randomTries+maxSuffix)
}

// Size is the number of distinct adjective-noun pairs the generator knows
// (0 for a name program: unknown).
func (g *Generator) Size() int { return len(g.adjectives) * len(g.nouns) }

func (g *Generator) pair() string {
	return g.adjectives[g.intn(len(g.adjectives))] + "-" + g.nouns[g.intn(len(g.nouns))]
}

// Generate returns a free name from the built-in word lists.
func Generate(taken func(string) bool) (string, error) {
	return New().Generate(taken)
}

func validateWord(w string) error {
	if len(w) > maxWordLen {
		return fmt.Errorf("word %q is too long: use at most %d characters", w, maxWordLen)
	}
	if !isLabel(w) {
		return fmt.Errorf("word %q is not allowed: use lowercase letters, digits and inner hyphens", w)
	}
	return nil
}

func dedupe(words []string) []string {
	seen := make(map[string]bool, len(words))
	out := make([]string, 0, len(words))
	for _, w := range words {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}
