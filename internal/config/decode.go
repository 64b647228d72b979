package config

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// apply decodes doc and sets every key it holds. Unknown keys and bad
// values are all reported, in line order. Keys match exactly, as TOML
// says: doc is decoded into a map rather than a struct because go-toml
// matches struct fields case-insensitively, which would let "VMM" set vmm
// without a line to report it on. Values stay untyped so that type errors
// get banger's own messages; keys() does the typing and validation.
func (c *Config) apply(doc []byte, home string, env func(string) string) error {
	values := map[string]any{}
	if err := toml.NewDecoder(bytes.NewReader(doc)).Decode(&values); err != nil {
		return c.decodeError(err)
	}
	lines := keyLines(doc)
	known := map[string]bool{}
	var problems []problem
	ctx := &valueCtx{configDir: c.ConfigDir, home: home, env: env}
	base := filepath.Base(c.File)
	for _, k := range c.keys() {
		known[k.name] = true
		v, ok := values[k.name]
		if !ok {
			continue
		}
		line := lines[k.name]
		if err := k.set(v, ctx); err != nil {
			problems = append(problems, problem{line, fmt.Errorf("%s: %s: %w", c.at(line), k.name, err)})
			continue
		}
		c.Sources[k.name] = fmt.Sprintf("%s:%d", base, line)
	}
	for name := range values {
		if !known[name] {
			line := lines[name]
			problems = append(problems, problem{line, fmt.Errorf("%s: unknown key %q%s; see 'banger config show' for valid keys",
				c.at(line), name, suggestion(name))})
		}
	}
	sort.SliceStable(problems, func(i, j int) bool {
		if problems[i].line != problems[j].line {
			return problems[i].line < problems[j].line
		}
		return problems[i].err.Error() < problems[j].err.Error()
	})
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = p.err
	}
	return errors.Join(errs...)
}

// problem is one error in the file, kept with its line for sorting.
type problem struct {
	line int
	err  error
}

// at renders "file:line" (just the file when the line is unknown).
func (c *Config) at(line int) string {
	if line <= 0 {
		return c.File
	}
	return fmt.Sprintf("%s:%d", c.File, line)
}

// decodeError turns a go-toml syntax error into a file:line message.
func (c *Config) decodeError(err error) error {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		return fmt.Errorf("%s: invalid TOML: %s", c.at(row), strings.TrimPrefix(de.Error(), "toml: "))
	}
	return fmt.Errorf("%s: %w", c.File, err)
}

// keyLines maps each top-level key of doc to the line it is set on (the
// first occurrence), using go-toml's position-aware parser. A table header
// ([key] or [[key]]) counts as setting its first key, so a key wrongly
// written as a table is reported on the header's line.
func keyLines(doc []byte) map[string]int {
	lines := map[string]int{}
	var p unstable.Parser
	p.Reset(doc)
	inTable := false
	for p.NextExpression() {
		e := p.Expression()
		if e.Kind == unstable.Table || e.Kind == unstable.ArrayTable {
			inTable = true // every banger key is top-level
		} else if e.Kind != unstable.KeyValue || inTable {
			continue
		}
		it := e.Key()
		if !it.Next() {
			continue
		}
		k := it.Node()
		name := string(k.Data)
		if _, seen := lines[name]; !seen {
			lines[name] = p.Shape(k.Raw).Start.Line
		}
	}
	return lines
}

// suggestion returns ` (did you mean "x"?)` for the valid key closest to
// name, when one is close enough to be a typo.
func suggestion(name string) string {
	best, bestDist := "", 4
	for _, k := range Keys() {
		if strings.EqualFold(name, k) {
			return fmt.Sprintf(" (did you mean %q? keys are lowercase)", k)
		}
		if d := editDistance(name, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" || bestDist > len(name)/3+1 {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
