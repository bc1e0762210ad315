package resume

import (
	"net/http"
	"net/netip"
	"strings"
)

// ClientAddrFrom returns an Options.ClientAddr for a server behind one
// trusted reverse proxy that reports the client's address in header: the
// client is the right-most entry across all lines of header. That is the
// entry the proxy appended to X-Forwarded-For, or the value it set in a
// single-value header such as Fly.io's Fly-Client-IP (a copy the client
// sent itself can only come before it). Entries to its left came from the
// client and may be forged, so a right-most entry that is not an address
// falls back to the TCP peer's address, never to an earlier entry. An
// entry may carry a port ("[2001:db8::1]:443"); IPv4-mapped IPv6 addresses
// come back as IPv4.
//
// Never trust a header without a proxy that sets it: any client can send
// one. On Fly.io use "Fly-Client-IP": the right-most X-Forwarded-For entry
// Fly's proxy appends is the app's own address. With header "" the client
// is the TCP peer, as without Options.ClientAddr. The result is invalid
// only when r.RemoteAddr is not an address (never so for a TCP
// connection).
func ClientAddrFrom(header string) func(r *http.Request) netip.Addr {
	name := http.CanonicalHeaderKey(header)
	return func(r *http.Request) netip.Addr {
		if name != "" {
			if a, ok := rightMost(r.Header[name]); ok {
				return a
			}
		}
		return peerAddr(r)
	}
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

// peerAddr is the default Options.ClientAddr: the address of the TCP peer.
func peerAddr(r *http.Request) netip.Addr {
	return parseAddr(r.RemoteAddr)
}

// parseAddr parses an address with or without a port ("192.0.2.1",
// "[2001:db8::1]:443"); IPv4-mapped IPv6 addresses come back as IPv4. It
// returns the invalid Addr for anything else.
func parseAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}

// ClientKey is what to count a client by, for a rate limit or a cap such
// as Options.MaxConnsPerClient: an IPv4 address as a /32, an IPv6 address
// as the /64 it is in, since one subscriber or one cloud machine usually
// holds a whole /64 (RFC 6177) and could otherwise pose as millions of
// clients. The zone is dropped and an IPv4-mapped address counts as IPv4.
// Every invalid address has the same key, the zero Prefix.
func ClientKey(a netip.Addr) netip.Prefix {
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
