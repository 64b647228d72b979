package dns

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fakeRoot(t *testing.T, files map[string]string) {
	root := t.TempDir()
	for p, body := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := rootDir
	rootDir = root
	t.Cleanup(func() { rootDir = old })
}

func TestHostResolverAdvice(t *testing.T) {
	ip := netip.MustParseAddr("172.30.0.1")
	ctx := context.Background()
	t.Setenv("PATH", t.TempDir()) // no resolvectl

	fakeRoot(t, map[string]string{"/run/systemd/resolve/stub-resolv.conf": "nameserver 127.0.0.53\n"})
	if a := HostResolverAdvice(ctx, ip); !strings.HasPrefix(a, "systemd-resolved") {
		t.Errorf("resolved: %s", a)
	}
	fakeRoot(t, map[string]string{"/etc/dnsmasq.conf": "", "/etc/resolv.conf": "nameserver 127.0.0.1\n"})
	if a := HostResolverAdvice(ctx, ip); !strings.Contains(a, "server=/vm/172.30.0.1") {
		t.Errorf("dnsmasq: %s", a)
	}
	fakeRoot(t, map[string]string{"/etc/resolv.conf": "nameserver 192.0.2.1\n"})
	a := HostResolverAdvice(ctx, ip)
	if !strings.HasPrefix(a, "plain /etc/resolv.conf") {
		t.Errorf("plain: %s", a)
	}
	if err := ResolvedLink(ctx, "banger0", ip); !errors.Is(err, ErrNoResolved) {
		t.Errorf("ResolvedLink without resolved = %v", err)
	}
}
