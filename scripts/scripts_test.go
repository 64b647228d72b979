package scripts

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bangerdev/banger/internal/dns"
)

// sh runs a bash snippet with the libraries sourced from this directory and
// returns its stdout; stderr is folded into the error.
func sh(t *testing.T, snippet string, env ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("bash", "-c", "set -euo pipefail; . ./packages.sh; . ./dns.sh; "+snippet)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), &exec.ExitError{ProcessState: cmd.ProcessState, Stderr: []byte(stderr.String())}
	}
	return string(out), nil
}

func mustSh(t *testing.T, snippet string, env ...string) string {
	t.Helper()
	out, err := sh(t, snippet, env...)
	if err != nil {
		t.Fatalf("%s: %v: %s", snippet, err, err.(*exec.ExitError).Stderr)
	}
	return out
}

func TestScriptsParseAndAreShellcheckClean(t *testing.T) {
	files, _ := filepath.Glob("*.sh")
	if len(files) < 6 {
		t.Fatalf("found only %v", files)
	}
	for _, f := range files {
		if out, err := exec.Command("bash", "-n", f).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v\n%s", f, err, out)
		}
	}
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Skip("shellcheck not installed (make deps installs it)")
	}
	args := append([]string{"-x"}, files...)
	if out, err := exec.Command("shellcheck", args...).CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

func TestHelpersAreEmbeddedWithTheirModes(t *testing.T) {
	for _, h := range Helpers {
		b, err := FS.ReadFile(h.File)
		if err != nil || len(b) == 0 {
			t.Fatalf("%s not embedded: %v", h.File, err)
		}
		fi, err := os.Stat(h.File)
		if err != nil {
			t.Fatal(err)
		}
		if exec := fi.Mode().Perm()&0o111 != 0; exec != h.Executable {
			t.Errorf("%s: executable bit %v, want %v", h.File, exec, h.Executable)
		}
		if h.Executable && !strings.HasPrefix(string(b), "#!/usr/bin/env bash\n") {
			t.Errorf("%s has no bash shebang", h.File)
		}
	}
	for _, link := range []string{"../verify.sh", "../make-rootfs.sh"} {
		if target, err := os.Readlink(link); err != nil || !strings.HasPrefix(target, "scripts/") {
			t.Errorf("%s: %q, %v; want a link into scripts/", link, target, err)
		}
	}
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPackagesReadAndHash(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, filepath.Join(dir, "a.apt"), "# base\ncurl\n\n  git  # vcs\ncurl\njq")
	b := writeFile(t, filepath.Join(dir, "b.apt"), "jq\ngit\ncurl\n")
	c := writeFile(t, filepath.Join(dir, "c.apt"), "jq\ngit\ncurl\nripgrep\n")
	if got := mustSh(t, "banger_packages_read '"+a+"'"); got != "curl\ngit\njq\n" {
		t.Fatalf("read = %q", got)
	}
	hash := func(f string, extra string) string {
		return strings.TrimSpace(mustSh(t, "banger_packages_hash '"+f+"' "+extra))
	}
	ha, hb, hc := hash(a, ""), hash(b, ""), hash(c, "")
	if len(ha) != 64 || ha != hb {
		t.Errorf("comments, order and duplicates changed the hash: %s vs %s", ha, hb)
	}
	if hc == ha {
		t.Error("a new package did not change the hash")
	}
	if hash(a, "docker.io") == ha || hash(a, "recipe:2") == hash(a, "recipe:1") {
		t.Error("extra words do not change the hash")
	}
	bad := writeFile(t, filepath.Join(dir, "bad.apt"), "curl\nBad_Pkg\n")
	_, err := sh(t, "banger_packages_hash '"+bad+"'")
	if err == nil || !strings.Contains(string(err.(*exec.ExitError).Stderr), "bad.apt:2: invalid package name \"Bad_Pkg\"") {
		t.Errorf("invalid name: %v", err)
	}

	stamp := filepath.Join(dir, "rootfs-docker.ext4.packages.sha256")
	if _, err := sh(t, "banger_stamp_matches '"+stamp+"' "+ha); err == nil {
		t.Error("a missing stamp matched")
	}
	mustSh(t, "banger_stamp_write '"+stamp+"' "+ha)
	mustSh(t, "banger_stamp_matches '"+stamp+"' "+ha)
	if _, err := sh(t, "banger_stamp_matches '"+stamp+"' "+hc); err == nil {
		t.Error("a different hash matched the stamp")
	}
}

func TestProvisionScript(t *testing.T) {
	got := mustSh(t, "banger_provision_script jq --docker")
	for _, want := range []string{
		"apt-get install -y -q --no-install-recommends jq docker.io containerd runc iptables apparmor\n",
		"systemctl disable docker.service containerd.service",
		"systemctl enable docker.socket",
		`"storage-driver": "overlay2"`,
		"rm -rf /var/lib/apt/lists/*\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("script lacks %q:\n%s", want, got)
		}
	}
	if out, err := exec.Command("bash", "-n", "-c", got).CombinedOutput(); err != nil {
		t.Errorf("generated script does not parse: %v\n%s", err, out)
	}
	plain := mustSh(t, "banger_provision_script")
	if strings.Contains(plain, "apt-get install") || strings.Contains(plain, "docker") {
		t.Errorf("no packages still installs something:\n%s", plain)
	}
	if _, err := sh(t, "banger_provision_script 'jq; rm -rf /'"); err == nil {
		t.Error("a package name with shell syntax was accepted")
	}

	// customize.sh prints the same script, and feeds it to a command.
	printed, err := exec.Command("./customize.sh", "--package", "jq", "--docker", "--print").Output()
	if err != nil || string(printed) != got {
		t.Errorf("customize.sh --print = %q, %v", printed, err)
	}
	fed, err := exec.Command("./customize.sh", "--package", "jq", "--docker", "--", "cat").Output()
	if err != nil || string(fed) != got {
		t.Errorf("customize.sh -- cat = %q, %v", fed, err)
	}
	out, err := exec.Command("./customize.sh", "--package", "jq").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--print, --image IMAGE or -- COMMAND") {
		t.Errorf("no target: %v %s", err, out)
	}
}

func TestDNSLibrary(t *testing.T) {
	if got := mustSh(t, "banger_dns_fqdn Web; banger_dns_fqdn calm-otter.vm."); got != "web.vm.\ncalm-otter.vm.\n" {
		t.Errorf("fqdn = %q", got)
	}
	env := []string{"XDG_DATA_HOME=/xdg", "BANGER_MAPDNS_DATA_FILE="}
	if got := mustSh(t, "banger_mapdns_data_file; banger_mapdns_data_file /cfg.json", env...); got != "/xdg/mapdns/records.json\n/cfg.json\n" {
		t.Errorf("data file = %q", got)
	}
	if got := mustSh(t, "banger_mapdns_data_file", "BANGER_MAPDNS_DATA_FILE=/env.json"); got != "/env.json\n" {
		t.Errorf("data file from env = %q", got)
	}

	// The shell writer and bangerd's publisher share one file format.
	file := filepath.Join(t.TempDir(), "mapdns", "records.json")
	m := dns.NewMapdns(file, "", "")
	if err := m.Publish("go-vm", netip.MustParseAddr("172.30.0.7")); err != nil {
		t.Fatal(err)
	}
	mustSh(t, "banger_mapdns_set '"+file+"' Shell-VM 172.30.0.8; banger_mapdns_set '"+file+"' gone 172.30.0.9; banger_mapdns_remove '"+file+"' gone")
	recs, err := dns.ReadMapdnsFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs["go-vm.vm."] != netip.MustParseAddr("172.30.0.7") || recs["shell-vm.vm."] != netip.MustParseAddr("172.30.0.8") {
		t.Fatalf("records = %v", recs)
	}
	writeFile(t, file, "{broken")
	if _, err := sh(t, "banger_mapdns_set '"+file+"' web 172.30.0.5"); err == nil {
		t.Error("a corrupt data file was overwritten")
	}
	// A pid file naming a process that is not mapdns is not signalled.
	pidFile := writeFile(t, filepath.Join(t.TempDir(), "mapdns.pid"), "1\n")
	mustSh(t, "banger_mapdns_reload '"+pidFile+"'")
}

func TestMakeRootfsStampAndErrors(t *testing.T) {
	rt := t.TempDir()
	pk := writeFile(t, filepath.Join(rt, "packages.apt"), "curl\n")
	writeFile(t, filepath.Join(rt, "rootfs.ext4"), "base")
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(context.Background(), "./make-rootfs.sh", append([]string{"--runtime-dir", rt, "--packages", pk}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	// With the stamp of the current inputs and an image present, nothing is
	// rebuilt (and nothing needs root).
	writeFile(t, filepath.Join(rt, "rootfs-docker.ext4"), "docker")
	writeFile(t, filepath.Join(rt, "rootfs-docker.ext4.packages.sha256"), rootfsStamp(t, pk, []byte("base"))+"\n")
	if out, err := run(); err != nil || !strings.Contains(out, "is up to date") {
		t.Fatalf("matching stamp: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(rt, "rootfs-docker.ext4")); string(b) != "docker" {
		t.Fatal("an up-to-date image was rewritten")
	}
	if out, err := run("--base-rootfs", filepath.Join(rt, "nope.ext4")); err == nil || !strings.Contains(out, "pass --base-rootfs PATH") {
		t.Errorf("missing base: %v\n%s", err, out)
	}
	if out, err := run("--bogus"); err == nil || !strings.Contains(out, "unknown argument --bogus") {
		t.Errorf("unknown flag: %v\n%s", err, out)
	}
}
