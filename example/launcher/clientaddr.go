package main

import "net/netip"

// clientKey is what the launch limiter and the connection cap count by: an
// IPv4 address, or the /64 an IPv6 address is in, since one subscriber or
// one cloud machine usually holds a whole /64 (RFC 6177) and could
// otherwise pose as millions of clients. Invalid addresses share one key.
func clientKey(a netip.Addr) netip.Prefix {
	a = a.Unmap().WithZone("")
	switch {
	case a.Is4():
		return netip.PrefixFrom(a, 32)
	case a.Is6():
		p, _ := a.Prefix(64) // cannot fail for a valid IPv6 address
		return p
	}
	return netip.Prefix{}
}
