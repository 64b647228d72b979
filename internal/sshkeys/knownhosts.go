package sshkeys

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"golang.org/x/sys/unix"
)

const knownHostsHeader = "# banger known_hosts: host keys of banger VMs, managed by banger; edits are overwritten"

// KnownHosts is banger's own known_hosts file, in OpenSSH format, that pins
// each VM's host key under its names and address (e.g. "calm-otter",
// "calm-otter.vm", "172.30.0.2"). Changes hold an exclusive lock on
// Path+".lock" and replace the file atomically, so concurrent daemons,
// goroutines and readers (the system ssh) are safe.
type KnownHosts struct {
	// Path is the known_hosts file.
	Path string
}

// Pin records pubKey (authorized_keys format) as the only host key of each
// host, replacing earlier entries for those hosts. A host is a name, an IP,
// or host:port for a port other than 22.
func (k KnownHosts) Pin(hosts []string, pubKey string) error {
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(pubKey))
	if err != nil {
		return fmt.Errorf("pin host key: parse public key: %w", err)
	}
	norm, err := normalizeHosts(hosts)
	if err != nil {
		return fmt.Errorf("pin host key: %w", err)
	}
	if len(norm) == 0 {
		return errors.New("pin host key: no host names given")
	}
	line := strings.Join(norm, ",") + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
	return k.update(func(lines []string) []string {
		return append(removeHosts(lines, norm), line)
	})
}

// Unpin removes every entry for the hosts. Unknown hosts are ignored.
func (k KnownHosts) Unpin(hosts []string) error {
	norm, err := normalizeHosts(hosts)
	if err != nil {
		return fmt.Errorf("unpin host key: %w", err)
	}
	return k.update(func(lines []string) []string { return removeHosts(lines, norm) })
}

// HostKeyCallback verifies server keys against the file. An unknown host or
// a different key yields a *HostKeyError.
func (k KnownHosts) HostKeyCallback() (ssh.HostKeyCallback, error) {
	cb, err := knownhosts.New(k.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return func(host string, _ net.Addr, key ssh.PublicKey) error {
			return &HostKeyError{Host: host, Source: k.Path, Got: ssh.FingerprintSHA256(key)}
		}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read known_hosts %s: %w", k.Path, err)
	}
	return func(host string, remote net.Addr, key ssh.PublicKey) error {
		err := cb(host, remote, key)
		var ke *knownhosts.KeyError
		if errors.As(err, &ke) {
			he := &HostKeyError{Host: host, Source: k.Path, Got: ssh.FingerprintSHA256(key)}
			for _, w := range ke.Want {
				he.Pinned = append(he.Pinned, ssh.FingerprintSHA256(w.Key))
			}
			return he
		}
		return err
	}, nil
}

// HostKeyError says that a server's host key is not the pinned one.
type HostKeyError struct {
	// Host is the address dialled.
	Host string
	// Source is the known_hosts path or "pinned key".
	Source string
	// Got is the fingerprint the server presented.
	Got string
	// Pinned lists the pinned fingerprints; empty when the host is unknown.
	Pinned []string
}

// Error explains the mismatch and what to do.
func (e *HostKeyError) Error() string {
	if len(e.Pinned) == 0 {
		return fmt.Sprintf("host key of %s (%s) is not pinned in %s: only VMs created by banger can be reached; recreate the VM if its entry was lost", e.Host, e.Got, e.Source)
	}
	return fmt.Sprintf("host key mismatch for %s: it presented %s but banger pinned %s in %s: the VM's identity changed or another machine answers at this address; check the address and recreate the VM if its disks were replaced",
		e.Host, e.Got, strings.Join(e.Pinned, ", "), e.Source)
}

// update applies edit to the entry lines under the lock and rewrites the file.
func (k KnownHosts) update(edit func(lines []string) []string) error {
	if err := os.MkdirAll(filepath.Dir(k.Path), 0o755); err != nil {
		return fmt.Errorf("known_hosts: %w", err)
	}
	lock, err := os.OpenFile(k.Path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("known_hosts: lock: %w", err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("known_hosts: lock: %w", err)
	}
	defer unix.Flock(int(lock.Fd()), unix.LOCK_UN)

	data, err := os.ReadFile(k.Path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("known_hosts: %w", err)
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			lines = append(lines, t)
		}
	}
	lines = edit(lines)
	out := knownHostsHeader + "\n" + strings.Join(lines, "\n")
	if len(lines) > 0 {
		out += "\n"
	}
	if err := writeFileAtomic(k.Path, []byte(out), 0o644, -1, -1); err != nil {
		return fmt.Errorf("known_hosts: write %s: %w", k.Path, err)
	}
	return nil
}

// removeHosts drops the hosts from every line, and lines left without hosts.
func removeHosts(lines, hosts []string) []string {
	drop := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		drop[h] = true
	}
	var out []string
	for _, l := range lines {
		f := strings.Fields(l)
		i := 0
		if strings.HasPrefix(f[0], "@") && len(f) > 1 { // marker such as @revoked
			i = 1
		}
		var keep []string
		for _, h := range strings.Split(f[i], ",") {
			if !drop[h] {
				keep = append(keep, h)
			}
		}
		if len(keep) == 0 {
			continue
		}
		f[i] = strings.Join(keep, ",")
		out = append(out, strings.Join(f, " "))
	}
	return out
}

// normalizeHosts lowercases names and writes addresses as OpenSSH does:
// "host" for port 22, "[host]:port" otherwise.
func normalizeHosts(hosts []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, h := range hosts {
		if h == "" || strings.ContainsAny(h, " \t\n,*?!#|@") {
			return nil, fmt.Errorf("invalid host name %q", h)
		}
		n := strings.ToLower(knownhosts.Normalize(h))
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}
