package preflight

import (
	"errors"

	"github.com/bangerdev/banger/internal/vmm"
)

// KVMUsable reports whether this host can run KVM guests (see
// vmm.KVMUsable, the one implementation of the check): /dev/kvm opens
// read-write and the CPU advertises vmx or svm. The error says why not and
// what to do.
func KVMUsable() error {
	if ok, why := vmm.KVMUsable(); !ok {
		return errors.New(why)
	}
	return nil
}
