package scripts

import (
	"fmt"
	"regexp"
	"strings"
)

// The provisioning facts below are owned by packages.sh, which customize.sh
// and make-rootfs.sh run inside the guest or chroot; Go reads them from the
// embedded copy, so the two can never disagree.
var (
	// DockerPackages is packages.sh's BANGER_DOCKER_PACKAGES: what
	// customize.sh --docker installs, recorded in a built image's package
	// list and named in 'image build --help'.
	DockerPackages = shellArray("packages.sh", "BANGER_DOCKER_PACKAGES")
	// PackageName is the pattern banger_package_valid accepts: a Debian
	// package name.
	PackageName = regexp.MustCompile(shellPattern("packages.sh", "banger_package_valid"))
)

// shellArray reads the words of the bash array assignment NAME=(...) on one
// line of file.
func shellArray(file, name string) []string {
	for _, l := range lines(file) {
		if rest, ok := strings.CutPrefix(l, name+"=("); ok {
			if words, ok := strings.CutSuffix(rest, ")"); ok {
				return strings.Fields(words)
			}
		}
	}
	panic(fmt.Sprintf("scripts: %s has no one-line array %s=(...)", file, name))
}

// shellPattern reads the regular expression that the bash function fn of
// file tests its argument against ([[ $1 =~ PATTERN ]]).
func shellPattern(file, fn string) string {
	in := false
	for _, l := range lines(file) {
		switch {
		case strings.HasPrefix(l, fn+"() {"):
			in = true
		case in && l == "}":
			in = false
		case in && strings.Contains(l, "=~ "):
			_, rest, _ := strings.Cut(l, "=~ ")
			if pat, _, ok := strings.Cut(rest, " ]]"); ok {
				return pat
			}
		}
	}
	panic(fmt.Sprintf("scripts: %s: %s tests no [[ $1 =~ PATTERN ]]", file, fn))
}

// lines returns the trimmed lines of an embedded file.
func lines(file string) []string {
	b, err := FS.ReadFile(file)
	if err != nil {
		panic(err)
	}
	out := strings.Split(string(b), "\n")
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
	}
	return out
}
