package sshkeys

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAdoptKeyOnlyWhenUserHasNone(t *testing.T) {
	dir := t.TempDir()
	bundleKey := filepath.Join(dir, "bundle", "id_ed25519")
	if _, err := EnsureUserKey(bundleKey); err != nil {
		t.Fatal(err)
	}
	bundlePub, _ := os.ReadFile(bundleKey + ".pub")
	user := filepath.Join(dir, "cfg", "ssh", "id_ed25519")

	ok, err := AdoptKey(bundleKey, user)
	if err != nil || !ok {
		t.Fatalf("first adopt = %v, %v; want installed", ok, err)
	}
	pub, err := EnsureUserKey(user)
	if err != nil || strings.TrimSpace(pub) != strings.TrimSpace(string(bundlePub)) {
		t.Fatalf("user key after adopt = %q, %v; want the bundle's %q", pub, err, bundlePub)
	}
	if st, _ := os.Stat(user); st.Mode().Perm() != 0o600 {
		t.Errorf("adopted key mode %04o, want 0600", st.Mode().Perm())
	}

	// An existing user key is never replaced.
	other := filepath.Join(dir, "other", "id_ed25519")
	if _, err := EnsureUserKey(other); err != nil {
		t.Fatal(err)
	}
	if ok, err := AdoptKey(other, user); ok || err != nil {
		t.Fatalf("adopt over an existing key = %v, %v; want no-op", ok, err)
	}
	// No bundle key: nothing to do.
	if ok, err := AdoptKey(filepath.Join(dir, "none"), filepath.Join(dir, "u2", "id_ed25519")); ok || err != nil {
		t.Fatalf("adopt without a bundle key = %v, %v", ok, err)
	}
	// A broken bundle key is an error that says what to do.
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("not a key"), 0o600)
	if _, err := AdoptKey(bad, filepath.Join(dir, "u3", "id_ed25519")); err == nil || !strings.Contains(err.Error(), "ssh_key_from_bundle") {
		t.Fatalf("broken bundle key: %v", err)
	}
}
