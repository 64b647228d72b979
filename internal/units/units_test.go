package units

import (
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	good := map[string]int64{
		"16G":    16 * GiB,
		"16g":    16 * GiB,
		"16GiB":  16 * GiB,
		"16GB":   16 * GiB,
		" 8G ":   8 * GiB,
		"512M":   512 * MiB,
		"1T":     TiB,
		"2t":     2 * TiB,
		"1024K":  MiB,
		"4096":   4096,
		"4096B":  4096,
		"1.5G":   GiB + GiB/2,
		".5G":    GiB / 2,
		"0.25M":  MiB / 4,
		"8191T":  8191 * TiB,
		"1 G":    GiB,
		"100MiB": 100 * MiB,
	}
	for in, want := range good {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":         "empty",
		"G":        "no number",
		"abc":      "not a number",
		"16X":      "not a number",
		"-1G":      "not a number",
		"0":        "greater than zero",
		"0G":       "greater than zero",
		"1.":       "not a number",
		"1.2.3G":   "not a number",
		"0.3":      "whole number",
		"9999999T": "too large",
		"5iB":      "not a number",
		"1e3":      "not a number",
	}
	for in, want := range bad {
		_, err := ParseSize(in)
		if err == nil {
			t.Errorf("ParseSize(%q) succeeded, want error containing %q", in, want)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSize(%q) error %q does not mention %q", in, err, want)
		}
	}
}

func TestFormatSizeRoundTrip(t *testing.T) {
	cases := map[int64]string{
		16 * GiB:          "16G",
		1536 * MiB:        "1536M",
		TiB:               "1T",
		4097:              "4097",
		3 * KiB:           "3K",
		0:                 "0",
		2*TiB + 512*GiB:   "2560G",
		123 * MiB * 1024:  "123G",
		7*MiB + 3*KiB + 0: "7171K",
	}
	for n, want := range cases {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
		if n > 0 {
			back, err := ParseSize(FormatSize(n))
			if err != nil || back != n {
				t.Errorf("round trip of %d: got %d, %v", n, back, err)
			}
		}
	}
}

func TestHumanSize(t *testing.T) {
	cases := map[int64]string{
		512:         "512B",
		1536 * MiB:  "1.5G",
		16 * GiB:    "16G",
		812 * MiB:   "812M",
		150*GiB + 7: "150G",
		-2 * KiB:    "-2K",
	}
	for n, want := range cases {
		if got := HumanSize(n); got != want {
			t.Errorf("HumanSize(%d) = %q, want %q", n, got, want)
		}
	}
}
