package sshkeys

import "path/filepath"

// KnownHostsFor returns banger's known_hosts path for the user key at
// keyPath: a file named known_hosts beside the key, so the key and the host
// keys banger pins for it live together under the user's config dir.
func KnownHostsFor(keyPath string) string {
	return filepath.Join(filepath.Dir(keyPath), "known_hosts")
}
