package scripts

import (
	"strings"
	"testing"
)

// TestFactsAreWhatBashSees: the Docker package list and the package-name
// rule Go reads from packages.sh are the ones bash uses.
func TestFactsAreWhatBashSees(t *testing.T) {
	got := strings.Join(DockerPackages, " ")
	if want := strings.TrimSpace(mustSh(t, `echo "${BANGER_DOCKER_PACKAGES[@]}"`)); got != want || got == "" {
		t.Fatalf("DockerPackages = %q; bash has %q", got, want)
	}
	for _, name := range []string{"docker.io", "ripgrep", "g++", "libc6-dev", "x", "0ad", "Bad", "-x", "a b", "a;b", "", "é", "a_b", "+x", ".x"} {
		_, err := sh(t, "banger_package_valid '"+strings.ReplaceAll(name, "'", "")+"'")
		if bash := err == nil; PackageName.MatchString(name) != bash {
			t.Errorf("%q: Go says valid=%v, banger_package_valid %v", name, PackageName.MatchString(name), bash)
		}
	}
}
