// Package sshkeys owns banger's SSH identities: the user's key pair, per-VM
// host keys and the banger-managed known_hosts that pins them. Connections
// (readiness, commands, the system ssh's arguments) are package sshclient.
package sshkeys

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
)

// userKeyComment is written into the user's key files.
const userKeyComment = "banger"

// EnsureUserKey returns the user's public key (authorized_keys format) from
// the private key at path, generating an ed25519 key pair there on first use
// (private key 0600 in OpenSSH format, public key beside it as path+".pub",
// missing directory created 0700). A private key that other users can read,
// or that needs a passphrase, is refused.
func EnsureUserKey(path string) (publicKey string, err error) {
	return EnsureUserKeyOwned(path, -1, -1)
}

// EnsureUserKeyOwned is EnsureUserKey for a daemon running as root on behalf
// of a user: new files (and a newly created directory) are chowned to
// uid:gid so the user's own ssh can read the key. -1 keeps the owner.
func EnsureUserKeyOwned(path string, uid, gid int) (publicKey string, err error) {
	for attempt := 0; attempt < 2; attempt++ {
		pub, err := loadUserKey(path, uid, gid)
		if !errors.Is(err, fs.ErrNotExist) {
			return pub, err
		}
		if err := createUserKey(path, uid, gid); err != nil && !errors.Is(err, fs.ErrExist) {
			return "", err
		}
		// Created, or another process won the race: load what is there.
	}
	return "", fmt.Errorf("ssh key %s: vanished while being created: try again", path)
}

func loadUserKey(path string, uid, gid int) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("ssh key %s is not a regular file: point ssh_key_path at a key file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("ssh key %s is readable by other users (mode %04o): run chmod 600 %s", path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read ssh key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(data)
	var pe *ssh.PassphraseMissingError
	if errors.As(err, &pe) {
		return "", fmt.Errorf("ssh key %s is protected by a passphrase: banger needs a key without one; point ssh_key_path at another file", path)
	}
	if err != nil {
		return "", fmt.Errorf("ssh key %s is not a usable private key: %v: move it away and banger creates a new one", path, err)
	}
	pub := authorizedLine(signer.PublicKey(), userKeyComment)
	pubPath := path + ".pub"
	if cur, err := os.ReadFile(pubPath); err != nil || !samePublicKey(string(cur), pub) {
		if err := writeFileAtomic(pubPath, []byte(pub+"\n"), 0o644, uid, gid); err != nil {
			return "", fmt.Errorf("write public key: %w", err)
		}
	}
	return pub, nil
}

func createUserKey(path string, uid, gid int) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create ssh key directory: %w", err)
		}
		if err := chown(dir, uid, gid); err != nil {
			return err
		}
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("generate ssh key: %w", err)
	}
	pemBytes, err := marshalPrivate(priv, userKeyComment)
	if err != nil {
		return err
	}
	tmp, err := writeTemp(dir, pemBytes, 0o600, uid, gid)
	if err != nil {
		return fmt.Errorf("write ssh key: %w", err)
	}
	defer os.Remove(tmp)
	// Link never replaces an existing key, so concurrent callers agree.
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("write ssh key: %w", err)
	}
	return nil
}

// NewHostKey generates an ed25519 SSH host key for a VM: the private key in
// OpenSSH PEM format and the public key in authorized_keys format.
func NewHostKey() (privPEM []byte, pubAuthorized string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, "", fmt.Errorf("generate host key: %w", err)
	}
	privPEM, err = marshalPrivate(priv, "banger host key")
	if err != nil {
		return nil, "", err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, "", fmt.Errorf("generate host key: %w", err)
	}
	return privPEM, authorizedLine(sshPub, ""), nil
}

// Fingerprint returns the SHA256 fingerprint ("SHA256:...") of a public key
// in authorized_keys format, as ssh-keygen -l prints it.
func Fingerprint(pubAuthorized string) (string, error) {
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(pubAuthorized))
	if err != nil {
		return "", fmt.Errorf("parse public key: %w", err)
	}
	return ssh.FingerprintSHA256(pub), nil
}

func marshalPrivate(priv ed25519.PrivateKey, comment string) ([]byte, error) {
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, fmt.Errorf("encode ssh key: %w", err)
	}
	return pemEncode(block), nil
}

func authorizedLine(pub ssh.PublicKey, comment string) string {
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
	if comment != "" {
		line += " " + comment
	}
	return line
}

func samePublicKey(a, b string) bool {
	ka, _, _, _, err1 := ssh.ParseAuthorizedKey([]byte(a))
	kb, _, _, _, err2 := ssh.ParseAuthorizedKey([]byte(b))
	return err1 == nil && err2 == nil && string(ka.Marshal()) == string(kb.Marshal())
}
