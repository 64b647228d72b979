// Package units parses and formats byte sizes written the way banger's users
// write them: a number with an optional K, M, G or T suffix (binary
// multiples, so 1G is 1024 MiB).
package units

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Binary size multiples.
const (
	KiB int64 = 1 << 10
	MiB int64 = 1 << 20
	GiB int64 = 1 << 30
	TiB int64 = 1 << 40
)

var suffixes = []struct {
	suffix string
	mult   int64
}{
	{"T", TiB},
	{"G", GiB},
	{"M", MiB},
	{"K", KiB},
}

// ParseSize parses a size such as "16G", "512M", "1.5G", "1T" or "4096" (plain
// bytes). Suffixes are case-insensitive and may be followed by "B" or "iB"
// ("16GiB", "16GB"); all multiples are binary. A fractional number must come
// out as a whole number of bytes. Negative and zero sizes are rejected.
func ParseSize(s string) (int64, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("invalid size %q: empty; use a number with a K, M, G or T suffix, e.g. 16G", s)
	}
	num, mult := splitSuffix(in)
	if num == "" {
		return 0, fmt.Errorf("invalid size %q: no number; use a number with a K, M, G or T suffix, e.g. 16G", s)
	}
	n, err := scaleDecimal(num, mult)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: %v; use a number with a K, M, G or T suffix, e.g. 16G", s, err)
	}
	if n <= 0 {
		return 0, fmt.Errorf("invalid size %q: must be greater than zero", s)
	}
	return n, nil
}

// splitSuffix separates the number from its unit suffix and returns the
// multiplier. Anything it does not recognise stays in the number, which
// scaleDecimal then rejects.
func splitSuffix(s string) (string, int64) {
	u := strings.ToUpper(s)
	needUnit := false
	if strings.HasSuffix(u, "IB") {
		u, needUnit = u[:len(u)-2], true
	} else if strings.HasSuffix(u, "B") {
		u = u[:len(u)-1]
	}
	for _, sf := range suffixes {
		if strings.HasSuffix(u, sf.suffix) {
			return strings.TrimSpace(u[:len(u)-1]), sf.mult
		}
	}
	if needUnit {
		return s, 1
	}
	return strings.TrimSpace(u), 1
}

// scaleDecimal multiplies a non-negative decimal number (digits with at most
// one '.') by mult using integer arithmetic, failing on overflow or on a
// result that is not a whole number of bytes.
func scaleDecimal(num string, mult int64) (int64, error) {
	intPart, frac, hasDot := strings.Cut(num, ".")
	if intPart == "" && (!hasDot || frac == "") {
		return 0, fmt.Errorf("not a number")
	}
	for _, part := range []string{intPart, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return 0, fmt.Errorf("not a number")
			}
		}
	}
	if hasDot && frac == "" {
		return 0, fmt.Errorf("not a number")
	}
	var whole int64
	if intPart != "" {
		v, err := strconv.ParseInt(intPart, 10, 64)
		if err != nil || v > math.MaxInt64/mult {
			return 0, fmt.Errorf("too large")
		}
		whole = v * mult
	}
	if frac == "" {
		return whole, nil
	}
	if len(frac) > 12 {
		return 0, fmt.Errorf("too many decimal places")
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	den := int64(math.Pow10(len(frac)))
	// f/den * mult must be whole; mult <= 2^40 and f < 10^12 so compute in
	// two steps to avoid overflow.
	g := gcd(mult, den)
	m, d := mult/g, den/g
	if f%d != 0 {
		return 0, fmt.Errorf("not a whole number of bytes")
	}
	part := (f / d) * m
	if whole > math.MaxInt64-part {
		return 0, fmt.Errorf("too large")
	}
	return whole + part, nil
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// FormatSize renders n exactly in the largest unit that divides it ("16G",
// "1536M", "4097"), so ParseSize(FormatSize(n)) == n for every n > 0.
func FormatSize(n int64) string {
	if n <= 0 {
		return strconv.FormatInt(n, 10)
	}
	for _, sf := range suffixes {
		if n%sf.mult == 0 {
			return strconv.FormatInt(n/sf.mult, 10) + sf.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// HumanSize renders n approximately for display, with one decimal place
// when it helps ("1.5G", "812M", "16G", "512B"). Use FormatSize when the
// text must parse back to the same value.
func HumanSize(n int64) string {
	if n < 0 {
		return "-" + HumanSize(-n)
	}
	for _, sf := range suffixes {
		if n >= sf.mult {
			v := float64(n) / float64(sf.mult)
			if v >= 100 || n%sf.mult == 0 {
				return strconv.FormatFloat(math.Round(v), 'f', 0, 64) + sf.suffix
			}
			s := strconv.FormatFloat(v, 'f', 1, 64)
			s = strings.TrimSuffix(s, ".0")
			return s + sf.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}
