package namegen

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// LoadFile returns the Generator for namegen_path: a name program when path
// is one (see NewProgram), else a Generator over the word-list file (format
// in the package documentation). Errors name the file and line.
func LoadFile(path string) (*Generator, error) {
	if isProgram(path) {
		return NewProgram(path), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read name word list: %w; fix namegen_path in config.toml or remove it to use the built-in words", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads a word list from r; name (usually the file path) prefixes
// error messages.
func Parse(r io.Reader, name string) (*Generator, error) {
	var adjectives, nouns []string
	var section *[]string
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "[") {
			switch line {
			case "[adjectives]":
				section = &adjectives
			case "[nouns]":
				section = &nouns
			default:
				return nil, fmt.Errorf("%s:%d: unknown section %s: use [adjectives] or [nouns]", name, lineNo, line)
			}
			if seen[line] {
				return nil, fmt.Errorf("%s:%d: section %s appears twice", name, lineNo, line)
			}
			seen[line] = true
			continue
		}
		if section == nil {
			return nil, fmt.Errorf("%s:%d: word %q before any section: start the list with [adjectives] or [nouns]", name, lineNo, line)
		}
		if err := validateWord(line); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, lineNo, err)
		}
		*section = append(*section, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(adjectives) == 0 {
		return nil, fmt.Errorf("%s: no adjectives: add an [adjectives] section with at least one word", name)
	}
	if len(nouns) == 0 {
		return nil, fmt.Errorf("%s: no nouns: add a [nouns] section with at least one word", name)
	}
	return NewFromWords(adjectives, nouns)
}
