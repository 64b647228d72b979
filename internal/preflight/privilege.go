package preflight

import (
	"errors"
	"fmt"
	"os"

	"github.com/bangerdev/banger/internal/system"
)

// NetPrivileged reports whether euid may change the VM network: root may;
// another account needs the network helper installed with its
// capabilities and an allocation recorded for it by system install.
func NetPrivileged(euid int) error {
	if euid == 0 {
		return nil
	}
	if _, err := os.Stat(system.HelperPath); errors.Is(err, os.ErrNotExist) {
		return errors.New("this account is not set up for banger yet: run 'sudo banger system install --user $USER' once")
	}
	if !system.HasCaps(system.HelperPath) {
		return fmt.Errorf("%s has lost its capabilities (copied or upgraded without install?): run 'sudo banger system install --user $USER' again", system.HelperPath)
	}
	if _, err := system.LoadForUID(euid); err != nil {
		return err
	}
	return nil
}
