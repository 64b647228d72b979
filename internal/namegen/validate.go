package namegen

import "fmt"

// MaxNameLen is the longest VM or image name: one DNS label.
const MaxNameLen = 63

// ValidateName checks a VM name against DNS label rules, so that
// "<name>.vm" resolves and the name is a valid hostname.
func ValidateName(name string) error {
	return Validate("VM", name)
}

// Validate checks name against DNS label rules: 1-63 characters, lowercase
// letters, digits and hyphens, starting and ending with a letter or digit.
// kind ("VM", "image") is used in the error message.
func Validate(kind, name string) error {
	if len(name) >= 1 && len(name) <= MaxNameLen && isLabel(name) {
		return nil
	}
	return fmt.Errorf("invalid %s name %q: use 1-%d lowercase letters, digits and hyphens, starting and ending with a letter or digit",
		kind, name, MaxNameLen)
}

// isLabel reports whether s is non-empty, made of [a-z0-9-] and neither
// starts nor ends with a hyphen. Length limits are the caller's.
func isLabel(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
