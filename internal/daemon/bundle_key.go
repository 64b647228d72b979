package daemon

import (
	"path/filepath"

	"github.com/bangerdev/banger/internal/sshkeys"
)

// bundleKeyName is the private key the original's bundles carry.
const bundleKeyName = "id_ed25519"

// adoptBundleKey installs the bundle's id_ed25519 as the user key when the
// config opts in (ssh_key_from_bundle) and the user has none yet.
func (d *vms) adoptBundleKey() error {
	if !d.cfg.SSHKeyFromBundle || d.bundle == nil {
		return nil
	}
	src := filepath.Join(d.bundle.Dir, bundleKeyName)
	ok, err := sshkeys.AdoptKey(src, d.cfg.SSHKeyPath)
	if ok {
		d.log.Info("using the runtime bundle's ssh key (ssh_key_from_bundle)", "from", src, "to", d.cfg.SSHKeyPath)
	}
	return err
}
