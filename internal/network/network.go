// Package network manages banger's host-only VM network: one Linux bridge
// whose host side is the gateway of the VM subnet, and one tap device per VM
// attached to it. Links and addresses are changed through netlink only.
//
// The pure helpers (Gateway, AllocateIP, MACFor, TapName) hold the address
// plan; Manager is the host-facing part, with a netlink implementation
// (NewNetlinkManager) and an in-memory fake (NewFake) for unit tests.
package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// DefaultBridge is the bridge name used when the config does not set one.
const DefaultBridge = "banger0"

// DefaultSubnet is the VM subnet used when the config does not set vm_subnet.
var DefaultSubnet = netip.MustParsePrefix("172.30.0.0/24")

// TapPrefix starts every tap device name banger creates.
const TapPrefix = "bgt"

// maxIfaceName is the kernel limit for interface names (IFNAMSIZ - 1).
const maxIfaceName = 15

// ErrBridgeInUse is returned by TeardownBridge while ports are still attached.
var ErrBridgeInUse = errors.New("bridge still has ports attached")

// ErrNotFound is returned when a link that must exist does not.
var ErrNotFound = errors.New("link not found")

// Manager creates and removes the links of the VM network. Every method is
// idempotent where the name says "Ensure"; deletes of missing links succeed.
type Manager interface {
	// EnsureBridge creates the bridge if missing, gives it the gateway
	// address of subnet (prefix length included) and brings it up.
	EnsureBridge(ctx context.Context, name string, subnet netip.Prefix) error
	// TeardownBridge deletes the bridge; it returns ErrBridgeInUse (and
	// leaves the bridge) while any port is attached. A missing bridge is fine.
	TeardownBridge(ctx context.Context, name string) error
	// CreateTap creates a persistent single-queue tap device (owned by the
	// user whose VMM opens it; root for a root daemon),
	// attaches it to bridge and brings it up. An existing tap of that name
	// is used only when the same owner owns it and it is attached to
	// nothing or to bridge; any other link of that name is refused, never
	// taken over.
	CreateTap(ctx context.Context, name, bridge string) error
	// DeleteTap removes the tap when its owner is the manager's; a
	// missing tap is not an error, another owner's is refused.
	DeleteTap(ctx context.Context, name string) error
	// Ports lists the names of the links attached to bridge.
	Ports(ctx context.Context, bridge string) ([]string, error)
}

// Gateway returns the host side address of subnet: its first usable address
// (172.30.0.0/24 → 172.30.0.1).
func Gateway(subnet netip.Prefix) netip.Addr {
	return subnet.Masked().Addr().Next()
}

// GatewayPrefix returns Gateway(subnet) with the subnet's prefix length, the
// address given to the bridge (172.30.0.1/24).
func GatewayPrefix(subnet netip.Prefix) netip.Prefix {
	return netip.PrefixFrom(Gateway(subnet), subnet.Bits())
}

// ValidateSubnet checks that subnet is an IPv4 prefix with room for the
// gateway and at least one VM.
func ValidateSubnet(subnet netip.Prefix) error {
	if !subnet.IsValid() || !subnet.Addr().Is4() {
		return fmt.Errorf("vm subnet %q is not an IPv4 prefix: set vm_subnet to a range such as %s", subnet, DefaultSubnet)
	}
	if subnet.Bits() > 30 {
		return fmt.Errorf("vm subnet %s is too small (needs a gateway and one VM): set vm_subnet to /30 or larger", subnet)
	}
	return nil
}

// AllocateIP returns the lowest address of subnet that is not the network
// address, the gateway, the broadcast address or in used.
func AllocateIP(subnet netip.Prefix, used []netip.Addr) (netip.Addr, error) {
	if err := ValidateSubnet(subnet); err != nil {
		return netip.Addr{}, err
	}
	subnet = subnet.Masked()
	taken := make(map[netip.Addr]bool, len(used))
	for _, a := range used {
		taken[a.Unmap()] = true
	}
	gw := Gateway(subnet)
	for a := gw.Next(); subnet.Contains(a); a = a.Next() {
		if !subnet.Contains(a.Next()) { // a is the broadcast address
			break
		}
		if !taken[a] {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("subnet %s has no free address; delete a VM or set vm_subnet to a larger range", subnet)
}

// MACFor returns the deterministic, locally administered unicast MAC address
// of a VM with address ip: 02:b4 followed by the four IPv4 octets
// (172.30.0.2 → 02:b4:ac:1e:00:02). Two VMs never share one while their
// addresses differ.
func MACFor(ip netip.Addr) string {
	b := ip.Unmap().As4()
	return fmt.Sprintf("02:b4:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3])
}

// TapPrefixFor is the start of every tap name of uid's daemon: TapPrefix
// for root, "bg" + the uid in base 36 + "-" for any other account
// (uid 1000 → "bgrs-"). The prefixes of two accounts never start one
// another and root's names have no "-", so no account can create, hold or
// squat a name another account's VMs will use; the network helper refuses
// any other name.
func TapPrefixFor(uid int) string {
	if uid == 0 {
		return TapPrefix
	}
	return "bg" + strconv.FormatUint(uint64(uint32(uid)), 36) + "-"
}

// TapName derives the tap device name of root's VM vmID (TapNameFor(0, vmID)).
func TapName(vmID string) string { return TapNameFor(0, vmID) }

// TapNameFor derives the tap name of VM vmID for uid's daemon: TapPrefixFor
// followed by the id's letters and digits, cut to the 15-character kernel
// limit.
func TapNameFor(uid int, vmID string) string {
	var b strings.Builder
	b.WriteString(TapPrefixFor(uid))
	for _, r := range strings.ToLower(vmID) {
		if b.Len() >= maxIfaceName {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// IsTapNameOf reports whether name is a tap name uid's daemon may use:
// TapPrefixFor(uid) followed by 1 to 12 lower-case letters or digits,
// 15 characters at most.
func IsTapNameOf(uid int, name string) bool {
	rest, ok := strings.CutPrefix(name, TapPrefixFor(uid))
	if !ok || rest == "" || len(name) > maxIfaceName {
		return false
	}
	for _, r := range rest {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// validIfaceName reports whether name is usable as a Linux interface name.
func validIfaceName(name string) error {
	if name == "" || len(name) > maxIfaceName || strings.ContainsAny(name, "/ \t\n:") || name == "." || name == ".." {
		return fmt.Errorf("invalid interface name %q: use 1-15 characters without '/', ':' or spaces", name)
	}
	return nil
}
