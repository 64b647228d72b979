package sshkeys

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bangerdev/banger/internal/execx"
	"golang.org/x/crypto/ssh"
)

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestEnsureUserKeyGeneratesAndReuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cfg", "banger", "id_ed25519")
	pub, err := EnsureUserKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pub, "ssh-ed25519 ") {
		t.Errorf("public key %q", pub)
	}
	if m := mode(t, path); m != 0o600 {
		t.Errorf("private key mode %v", m)
	}
	if m := mode(t, path+".pub"); m != 0o644 {
		t.Errorf("public key mode %v", m)
	}
	if m := mode(t, filepath.Dir(path)); m != 0o700 {
		t.Errorf("key dir mode %v", m)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "-----BEGIN OPENSSH PRIVATE KEY-----") {
		t.Errorf("not an OpenSSH private key:\n%s", data)
	}
	if pubFile, _ := os.ReadFile(path + ".pub"); strings.TrimSpace(string(pubFile)) != pub {
		t.Errorf(".pub = %q, want %q", pubFile, pub)
	}
	if execx.Have("ssh-keygen") { // OpenSSH itself reads the key
		out, err := execx.Output(t.Context(), "ssh-keygen", "-y", "-f", path)
		if err != nil || !samePublicKey(string(out), pub) {
			t.Errorf("ssh-keygen -y: %q %v", out, err)
		}
	}
	again, err := EnsureUserKey(path)
	if err != nil || again != pub {
		t.Errorf("second call: %q %v, want the same key", again, err)
	}
	// A lost .pub is rewritten from the private key.
	os.Remove(path + ".pub")
	if again, err := EnsureUserKey(path); err != nil || again != pub {
		t.Errorf("after losing .pub: %q %v", again, err)
	}
	if _, err := os.Stat(path + ".pub"); err != nil {
		t.Error(".pub not restored")
	}
}

func TestEnsureUserKeyRefusesReadableKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "id")
	if _, err := EnsureUserKey(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := EnsureUserKey(path)
	if err == nil || !strings.Contains(err.Error(), "readable by other users (mode 0644): run chmod 600 "+path) {
		t.Errorf("error = %v", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureUserKey(path); err == nil || !strings.Contains(err.Error(), "not a usable private key") {
		t.Errorf("garbage key: %v", err)
	}
}

func TestEnsureUserKeyConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "id")
	var wg sync.WaitGroup
	pubs := make([]string, 8)
	errs := make([]error, 8)
	for i := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pubs[i], errs[i] = EnsureUserKey(path)
		}()
	}
	wg.Wait()
	for i := range pubs {
		if errs[i] != nil || pubs[i] != pubs[0] {
			t.Errorf("caller %d: %q %v, want %q", i, pubs[i], errs[i], pubs[0])
		}
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".banger-tmp-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestNewHostKey(t *testing.T) {
	priv, pub, err := NewHostKey()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if !samePublicKey(pub, authorizedLine(signer.PublicKey(), "")) || !strings.HasPrefix(pub, "ssh-ed25519 ") {
		t.Errorf("public %q does not match private key", pub)
	}
	_, pub2, _ := NewHostKey()
	if pub2 == pub {
		t.Error("two host keys are equal")
	}
	fp, err := Fingerprint(pub)
	if err != nil || !strings.HasPrefix(fp, "SHA256:") {
		t.Errorf("fingerprint %q %v", fp, err)
	}
}

// TestEnsureUserKeyPermissionVariants: a private key any other account can
// read or write (group or other bits, each on its own) is refused with the
// chmod to run; one only its owner can read is accepted, read-only too.
func TestEnsureUserKeyPermissionVariants(t *testing.T) {
	path := filepath.Join(t.TempDir(), "id")
	pub, err := EnsureUserKey(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []os.FileMode{0o640, 0o604, 0o620, 0o602, 0o610, 0o601, 0o660, 0o644} {
		if err := os.Chmod(path, m); err != nil {
			t.Fatal(err)
		}
		_, err := EnsureUserKey(path)
		if err == nil || !strings.Contains(err.Error(), "run chmod 600 "+path) {
			t.Errorf("mode %04o: error = %v, want a refusal naming chmod 600", m, err)
		}
	}
	for _, m := range []os.FileMode{0o600, 0o400, 0o700} {
		if err := os.Chmod(path, m); err != nil {
			t.Fatal(err)
		}
		if got, err := EnsureUserKey(path); err != nil || got != pub {
			t.Errorf("mode %04o: %q, %v; want the key accepted", m, got, err)
		}
	}
}

// TestEnsureUserKeyRefusesNonFiles: ssh_key_path naming a directory or a
// device (through a symlink) is refused as not a regular file, before its
// mode is looked at, and nothing is written there.
func TestEnsureUserKeyRefusesNonFiles(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "id_null")
	if err := os.Symlink("/dev/null", link); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "id_dir")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{link, sub} {
		_, err := EnsureUserKey(p)
		if err == nil || !strings.Contains(err.Error(), "is not a regular file: point ssh_key_path at a key file") {
			t.Errorf("%s: error = %v; want 'not a regular file'", p, err)
		}
		if _, err := os.Stat(p + ".pub"); !os.IsNotExist(err) {
			t.Errorf("%s: a .pub was written beside it", p)
		}
	}
}
