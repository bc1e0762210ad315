package main

import (
	"net/http"
	"net/netip"
	"strings"
)

// clientSource says where the launcher reads the client address of a
// request. The zero value trusts no header: the client is the peer.
type clientSource struct {
	// forwarded (-trust-forwarded), behind one trusted reverse proxy that
	// appends the client address to X-Forwarded-For: the right-most entry.
	forwarded bool
	// header (-client-ip-header), behind a trusted proxy that sets this
	// header to the client address, such as Fly.io's Fly-Client-IP.
	header string
}

// clientAddr returns the address of the client of r: the peer address of
// the connection or, when src trusts a proxy, the address that proxy
// reports: the right-most entry of all the lines of its header (the proxy
// appends to X-Forwarded-For; of a header it sets, a client-sent copy can
// only come before). Entries to its left came from the client and may be
// forged, so a right-most entry that is not an address falls back to the
// peer address, never to an earlier entry. The result is invalid only when
// r.RemoteAddr is not an address (never so for a real connection).
func clientAddr(r *http.Request, src clientSource) netip.Addr {
	name := src.header
	if src.forwarded {
		name = "X-Forwarded-For"
	}
	if name != "" {
		if a, ok := rightMost(r.Header.Values(name)); ok {
			return a
		}
	}
	return parseAddr(r.RemoteAddr)
}

// rightMost returns the last entry of the lines of a header holding a
// comma-separated list of addresses, as sent.
func rightMost(lines []string) (netip.Addr, bool) {
	if len(lines) == 0 {
		return netip.Addr{}, false
	}
	last := lines[len(lines)-1]
	a := parseAddr(strings.TrimSpace(last[strings.LastIndexByte(last, ',')+1:]))
	return a, a.IsValid()
}

// parseAddr parses an address with or without a port ("192.0.2.1",
// "[2001:db8::1]:443"); IPv4-mapped IPv6 addresses come back as IPv4.
func parseAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}

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
