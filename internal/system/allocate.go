package system

import (
	"fmt"
	"net/netip"
	"strconv"
)

// RootSubnet and RootBridge are what root's daemon uses by default; user
// allocations never take them.
var (
	RootSubnet = netip.MustParsePrefix("172.30.0.0/24")
	RootBridge = "banger0"
)

// firstUserSubnet starts the user range: 172.30.1.0/24, 172.30.2.0/24, ...
var firstUserSubnet = netip.MustParsePrefix("172.30.1.0/24")

// BridgeFor is the bridge name of uid: "bgu" and the uid, at most 15 bytes.
func BridgeFor(uid int) string { return "bgu" + strconv.Itoa(uid) }

// Allocate gives user (uid) a bridge and a /24 subnet that overlaps no
// other allocation, root's default subnet, nor any prefix in inUse (the
// host's own addresses and routes). An existing allocation is returned
// unchanged, so install is idempotent.
func (r *Registry) Allocate(user string, uid int, inUse []netip.Prefix) (Allocation, error) {
	if a, ok := r.ForUser(user); ok {
		if a.UID != uid {
			return Allocation{}, fmt.Errorf("user %s is recorded with uid %d but now has uid %d; run 'sudo banger system uninstall --user %s' first", user, a.UID, uid, user)
		}
		return a, nil
	}
	if a, ok := r.ForUID(uid); ok {
		return Allocation{}, fmt.Errorf("uid %d is already set up as %s: one account, one network (the helper tells accounts apart by uid); use that name", uid, a.User)
	}
	taken := append([]netip.Prefix{RootSubnet}, inUse...)
	for _, a := range r.Users {
		taken = append(taken, a.Subnet)
	}
	p := firstUserSubnet
	for i := 0; i < 250; i++ {
		if !overlapsAny(p, taken) {
			a := Allocation{User: user, UID: uid, Bridge: BridgeFor(uid), Subnet: p}
			r.Users = append(r.Users, a)
			return a, nil
		}
		p = nextSlash24(p)
	}
	return Allocation{}, fmt.Errorf("no free /24 left in 172.30.0.0/16 for %s: uninstall users that no longer need banger", user)
}

// Remove drops user's allocation and reports whether it existed.
func (r *Registry) Remove(user string) (Allocation, bool) {
	for i, a := range r.Users {
		if a.User == user {
			r.Users = append(r.Users[:i], r.Users[i+1:]...)
			return a, true
		}
	}
	return Allocation{}, false
}

func overlapsAny(p netip.Prefix, others []netip.Prefix) bool {
	for _, o := range others {
		if o.IsValid() && p.Overlaps(o) {
			return true
		}
	}
	return false
}

func nextSlash24(p netip.Prefix) netip.Prefix {
	b := p.Addr().As4()
	b[2]++
	return netip.PrefixFrom(netip.AddrFrom4(b), 24)
}
