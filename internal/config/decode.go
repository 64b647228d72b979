package config

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// rawFile is the shape of config.toml for go-toml's strict decoding, which
// rejects any key not listed here. Values stay untyped so that type errors
// get banger's own messages; keys() does the typing and validation.
type rawFile struct {
	RuntimeDir          any `toml:"runtime_dir"`
	FirecrackerBin      any `toml:"firecracker_bin"`
	MapDNSBin           any `toml:"mapdns_bin"`
	MapDNSDataFile      any `toml:"mapdns_data_file"`
	SSHKeyPath          any `toml:"ssh_key_path"`
	SSHKeyFromBundle    any `toml:"ssh_key_from_bundle"`
	NamegenPath         any `toml:"namegen_path"`
	CustomizeScript     any `toml:"customize_script"`
	DefaultRootfs       any `toml:"default_rootfs"`
	DefaultBaseRootfs   any `toml:"default_base_rootfs"`
	DefaultKernel       any `toml:"default_kernel"`
	DefaultInitrd       any `toml:"default_initrd"`
	DefaultModulesDir   any `toml:"default_modules_dir"`
	DefaultPackagesFile any `toml:"default_packages_file"`
	VMM                 any `toml:"vmm"`
	VMSubnet            any `toml:"vm_subnet"`
	BridgeName          any `toml:"bridge_name"`
	DefaultDiskSize     any `toml:"default_disk_size"`
	SystemDiskSize      any `toml:"system_disk_size"`
	DefaultMemoryMiB    any `toml:"default_memory_mib"`
	DefaultVCPUs        any `toml:"default_vcpus"`
	DNS                 any `toml:"dns"`
	StopTimeout         any `toml:"stop_timeout"`
	LogLevel            any `toml:"log_level"`
}

// values returns the keys set in r by TOML name.
func (r *rawFile) values() map[string]any {
	out := map[string]any{}
	v := reflect.ValueOf(r).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if f := v.Field(i); !f.IsNil() {
			out[t.Field(i).Tag.Get("toml")] = f.Interface()
		}
	}
	return out
}

// apply decodes doc strictly and sets every key it holds. Unknown keys and
// bad values are all reported, in line order.
func (c *Config) apply(doc []byte, home string, env func(string) string) error {
	var raw rawFile
	dec := toml.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	var problems []problem
	if err := dec.Decode(&raw); err != nil {
		var strict *toml.StrictMissingError
		if !errors.As(err, &strict) {
			return c.decodeError(err)
		}
		// go-toml still decoded the known keys: report the unknown ones
		// together with any bad values.
		problems = c.unknownKeys(strict)
	}
	lines := keyLines(doc)
	values := raw.values()
	ctx := &valueCtx{configDir: c.ConfigDir, home: home, env: env}
	base := filepath.Base(c.File)
	for _, k := range c.keys() {
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
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].line < problems[j].line })
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

// unknownKeys renders go-toml's strict-mode errors.
func (c *Config) unknownKeys(strict *toml.StrictMissingError) []problem {
	out := make([]problem, 0, len(strict.Errors))
	for _, e := range strict.Errors {
		row, _ := e.Position()
		name := strings.Join(e.Key(), ".")
		out = append(out, problem{row, fmt.Errorf("%s: unknown key %q%s; see 'banger config show' for valid keys",
			c.at(row), name, suggestion(name))})
	}
	return out
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
// first occurrence), using go-toml's position-aware parser.
func keyLines(doc []byte) map[string]int {
	lines := map[string]int{}
	var p unstable.Parser
	p.Reset(doc)
	for p.NextExpression() {
		e := p.Expression()
		if e.Kind == unstable.Table || e.Kind == unstable.ArrayTable {
			break // every banger key is top-level
		}
		if e.Kind != unstable.KeyValue {
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
