package namegen

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
)

// documented is the name rule of Validate's doc comment, written as a
// regular expression independently of the hand-written check.
var documented = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// FuzzValidate checks VM and image name validation against its documented
// pattern: a name is accepted exactly when it matches, an accepted name
// makes a valid DNS name "<name>.vm.", and a refusal quotes the name and
// names its kind on one line.
func FuzzValidate(f *testing.F) {
	f.Fuzz(func(t *testing.T, name string) {
		err := Validate("image", name)
		if (err == nil) != documented.MatchString(name) {
			t.Fatalf("Validate(%q) = %v, documented pattern says match=%v", name, err, documented.MatchString(name))
		}
		if (ValidateName(name) == nil) != (err == nil) {
			t.Fatalf("ValidateName and Validate disagree on %q", name)
		}
		if err == nil {
			if _, ok := mdns.IsDomainName(name + ".vm."); !ok {
				t.Fatalf("accepted %q but %q is not a DNS name", name, name+".vm.")
			}
			return
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "invalid image name "+strconv.Quote(name)+":") || strings.Contains(msg, "\n") {
			t.Fatalf("refusal should be one line quoting the name: %q", msg)
		}
	})
}
