package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func loadErr(t *testing.T, content string) string {
	t.Helper()
	path, env := setup(t, content)
	_, err := Load(path, getenv(env))
	if err == nil {
		t.Fatalf("Load accepted:\n%s", content)
	}
	msg := err.Error()
	// Every line names the file.
	for _, line := range strings.Split(msg, "\n") {
		if !strings.HasPrefix(line, path) {
			t.Errorf("error line does not start with the file path %s: %q", path, line)
		}
	}
	return strings.ReplaceAll(msg, filepath.Dir(path)+"/", "")
}

func TestUnknownKey(t *testing.T) {
	got := loadErr(t, "vmm = \"qemu\"\n\nfirecracker_bim = \"/x\"\n")
	want := `config.toml:3: unknown key "firecracker_bim" (did you mean "firecracker_bin"?); see 'banger config show' for valid keys`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	got = loadErr(t, "vm_suBnet = \"000\"\n")
	if got != `config.toml:1: unknown key "vm_suBnet" (did you mean "vm_subnet"? keys are lowercase); see 'banger config show' for valid keys` {
		t.Errorf("key in the wrong case: %s", got)
	}
	got = loadErr(t, "[network]\nsubnet = \"x\"\n")
	if got != `config.toml:1: unknown key "network"; see 'banger config show' for valid keys` {
		t.Errorf("table: %s", got)
	}
}

func TestBadValues(t *testing.T) {
	cases := map[string]string{
		"vmm = \"kvm\"":                      `config.toml:1: vmm: "kvm" is not allowed: use "auto", "firecracker" or "qemu"`,
		"vmm = 1":                            `config.toml:1: vmm: expected a string like "auto", got an integer`,
		"default_vcpus = \"2\"":              `config.toml:1: default_vcpus: expected an integer, got a string`,
		"default_vcpus = 33":                 `config.toml:1: default_vcpus: 33 is out of range: use 1 to 32`,
		"default_vcpus = 2.5":                `config.toml:1: default_vcpus: expected an integer, got a float`,
		"default_memory_mib = 64":            `config.toml:1: default_memory_mib: 64 is out of range: use 128 to 65536`,
		"default_disk_size = 8":              `config.toml:1: default_disk_size: expected a string like "8G", got an integer`,
		"default_disk_size = \"512M\"":       `config.toml:1: default_disk_size: 512M is out of range: use 1G to 2T`,
		"default_disk_size = \"3T\"":         `config.toml:1: default_disk_size: 3T is out of range: use 1G to 2T`,
		"default_disk_size = \"lots\"":       `config.toml:1: default_disk_size: invalid size "lots"`,
		"vm_subnet = \"fd00::/64\"":          `config.toml:1: vm_subnet: "fd00::/64" is not an IPv4 network in CIDR form`,
		"vm_subnet = \"10.0.0.0/8\"":         `config.toml:1: vm_subnet: prefix length /8 is out of range: use /16 to /29`,
		"vm_subnet = \"10.0.0.0/30\"":        `config.toml:1: vm_subnet: prefix length /30 is out of range`,
		"vm_subnet = \"10.0.0.5/24\"":        `config.toml:1: vm_subnet: "10.0.0.5/24" has host bits set: use "10.0.0.0/24"`,
		"bridge_name = \"banger-bridge-01\"": `config.toml:1: bridge_name: "banger-bridge-01" is not a valid interface name`,
		"bridge_name = \"br 0\"":             `config.toml:1: bridge_name: "br 0" is not a valid interface name`,
		"dns = \"bind\"":                     `config.toml:1: dns: "bind" is not allowed: use "builtin", "mapdns" or "none"`,
		"stop_timeout = \"30\"":              `config.toml:1: stop_timeout: "30" is not a duration`,
		"stop_timeout = \"2h\"":              `config.toml:1: stop_timeout: 2h is out of range: use 1s to 1h0m0s`,
		"log_level = \"trace\"":              `config.toml:1: log_level: "trace" is not allowed`,
		"runtime_dir = [\"a\"]":              `config.toml:1: runtime_dir: expected a string like "~/path", got an array`,
		"runtime_dir.x = \"a\"":              `config.toml:1: runtime_dir: expected a string like "~/path", got a table`,
		"runtime_dir = \"\"":                 `config.toml:1: runtime_dir: empty path`,
		"[runtime_dir]\nx = 1":               `config.toml:1: runtime_dir: expected a string like "~/path", got a table`,
		"ssh_key_path = \"~bob/key\"":        `config.toml:1: ssh_key_path: "~bob/key": only ~ and ~/ are expanded`,
		"vmm = \"qemu\"\nvmm = \"qemu\"":     `config.toml:2: invalid TOML: key vmm is already defined`,
		"vmm = ":                             `config.toml:1: invalid TOML:`,
	}
	for content, want := range cases {
		got := loadErr(t, content+"\n")
		if !strings.HasPrefix(got, want) {
			t.Errorf("%s\n got  %s\n want %s...", content, got, want)
		}
	}
}

func TestMissingFilesAreErrors(t *testing.T) {
	got := loadErr(t, "vmm = \"qemu\"\ndefault_kernel = \"vmlinux\"\n")
	if !strings.HasPrefix(got, "config.toml:2: default_kernel: vmlinux does not exist") {
		t.Errorf("got %s", got)
	}
	got = loadErr(t, "namegen_path = \"/nonexistent/bgt-words\"\n")
	if !strings.Contains(got, "config.toml:1: namegen_path: /nonexistent/bgt-words does not exist: fix the path, or remove the key") {
		t.Errorf("got %s", got)
	}
	got = loadErr(t, "mapdns_bin = \"bgt-no-such-mapdns\"\n")
	if !strings.Contains(got, "config.toml:1: mapdns_bin: bgt-no-such-mapdns was not found in PATH") {
		t.Errorf("got %s", got)
	}
	got = loadErr(t, "default_modules_dir = \"config.toml\"\n")
	if !strings.Contains(got, "default_modules_dir: config.toml is not a directory") {
		t.Errorf("got %s", got)
	}
}

func TestNonExecutableProgram(t *testing.T) {
	path, env := setup(t, "firecracker_bin = \"fc\"\n")
	// A bare name is a PATH lookup; a relative path is not.
	if _, err := Load(path, getenv(env)); err == nil || !strings.Contains(err.Error(), "fc was not found in PATH") {
		t.Errorf("bare name: %v", err)
	}
	fc := filepath.Join(filepath.Dir(path), "fc")
	touch(t, fc, 0o644)
	if err := os.WriteFile(path, []byte("firecracker_bin = \"./fc\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, getenv(env)); err == nil || !strings.Contains(err.Error(), "is not executable") {
		t.Errorf("non-executable: %v", err)
	}
}

func TestAllProblemsReportedInLineOrder(t *testing.T) {
	got := loadErr(t, "default_vcpus = 0\nbogus = 1\nvmm = \"x\"\n")
	lines := strings.Split(got, "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 problems, got:\n%s", got)
	}
	for i, prefix := range []string{"config.toml:1: default_vcpus", "config.toml:2: unknown key \"bogus\"", "config.toml:3: vmm"} {
		if !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], prefix)
		}
	}
}

func TestUnreadableFile(t *testing.T) {
	path, env := setup(t, "")
	if err := os.Mkdir(path, 0o700); err != nil { // a directory cannot be read as a file
		t.Fatal(err)
	}
	if _, err := Load(path, getenv(env)); err == nil || !strings.Contains(err.Error(), "read config") {
		t.Errorf("got %v", err)
	}
}

func TestSuggestion(t *testing.T) {
	if s := suggestion("log_levl"); s != ` (did you mean "log_level"?)` {
		t.Errorf("got %q", s)
	}
	if s := suggestion("completely_unrelated"); s != "" {
		t.Errorf("got %q for an unrelated key", s)
	}
}
