package main

import (
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr returns the address of r's client: the TCP peer, or behind a
// trusted reverse proxy (trustForwarded), the right-most X-Forwarded-For
// address across all the header's lines, which is the one the proxy
// appended; earlier entries are the client's own claims. An unparsable
// right-most entry falls back to the peer, never to an earlier entry.
func clientAddr(r *http.Request, trustForwarded bool) netip.Addr {
	if trustForwarded {
		if lines := r.Header.Values("X-Forwarded-For"); len(lines) > 0 {
			last := lines[len(lines)-1]
			last = strings.TrimSpace(last[strings.LastIndexByte(last, ',')+1:])
			if a, err := netip.ParseAddr(last); err == nil {
				return a.Unmap()
			}
		}
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
