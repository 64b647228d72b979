package config

import "testing"

func TestResourceChecksAcceptTheRangeInclusive(t *testing.T) {
	for _, err := range []error{CheckVCPUs(MinVCPUs), CheckVCPUs(MaxVCPUs), CheckMemoryMiB(MinMemoryMiB),
		CheckMemoryMiB(MaxMemoryMiB), CheckDiskSize(MinDiskSize), CheckDiskSize(MaxDiskSize)} {
		if err != nil {
			t.Errorf("bound refused: %v", err)
		}
	}
	cases := map[string]error{
		"invalid vcpu count 33: use 1 to 32":             CheckVCPUs(MaxVCPUs + 1),
		"invalid memory 127 MiB: use 128 to 65536 MiB":   CheckMemoryMiB(MinMemoryMiB - 1),
		"invalid disk size 1073741823: use 1G to 2T":     CheckDiskSize(MinDiskSize - 1),
		"invalid disk size 2049G: use 1G to 2T":          CheckDiskSize(MaxDiskSize + 1<<30),
		"invalid memory 65537 MiB: use 128 to 65536 MiB": CheckMemoryMiB(MaxMemoryMiB + 1),
		"invalid vcpu count 0: use 1 to 32":              CheckVCPUs(0),
	}
	for want, err := range cases {
		if err == nil || err.Error() != want {
			t.Errorf("got %v, want %q", err, want)
		}
	}
}
