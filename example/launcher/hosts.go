package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"path"
	"strings"
	"unicode/utf8"
)

// hostPolicy is the set of Host header values the launcher answers to; any
// other Host gets 421 Misdirected Request before anything else is served.
//
// It is the defence against DNS rebinding: a page on attacker.example whose
// name the attacker points at the launcher's address is same-origin with
// itself, so the browser lets it talk to the launcher, but every request it
// makes carries Host: attacker.example. Origin checks cannot catch that
// (Origin and Host agree); only a list of the launcher's own names can.
//
// The launcher's names are the listen host (for a loopback listen address:
// 127.0.0.1, localhost and [::1]), the hosts of the -origin patterns and
// the -allowed-hosts patterns. A wildcard listen address (":8080",
// "0.0.0.0:8080", "[::]:8080") also admits every IP literal: a rebinding
// page always reaches the launcher under a DNS name, never under an address,
// and a bare address is how health checkers and users on the LAN reach an
// instance. Names are compared case-insensitively and without the port.
type hostPolicy struct {
	names    map[string]bool // canonical host names and addresses
	patterns []string        // path.Match patterns, lower-case
	anyIP    bool            // a wildcard listen address: every IP literal
}

// newHostPolicy returns the policy of a launcher listening on listenAddr
// (host:port, as -addr) with the -origin patterns origins and the
// -allowed-hosts patterns allowed.
func newHostPolicy(listenAddr string, origins, allowed []string) (hostPolicy, error) {
	p := hostPolicy{names: map[string]bool{}}
	host, _, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return hostPolicy{}, fmt.Errorf("listen address %q: %w", listenAddr, err)
	}
	a, err := netip.ParseAddr(host)
	ip := err == nil
	switch {
	case host == "" || ip && a.IsUnspecified():
		p.anyIP = true
		p.addLoopback()
	case strings.EqualFold(host, "localhost") || ip && a.IsLoopback():
		p.addLoopback()
		p.names[canonicalHost(host)] = true
	default:
		p.names[canonicalHost(host)] = true
	}
	for _, o := range origins {
		if err := p.add(originHost(o)); err != nil {
			return hostPolicy{}, fmt.Errorf("origin %q: %w", o, err)
		}
	}
	for _, h := range allowed {
		if err := p.add(h); err != nil {
			return hostPolicy{}, fmt.Errorf("allowed host %q: %w", h, err)
		}
	}
	return p, nil
}

// addLoopback adds the names of a loopback listen address.
func (p *hostPolicy) addLoopback() {
	for _, h := range []string{"127.0.0.1", "localhost", "::1"} {
		p.names[h] = true
	}
}

// add adds a host name or path.Match pattern (see hostPattern).
func (p *hostPolicy) add(h string) error {
	h, err := hostPattern(h)
	if err != nil {
		return err
	}
	if strings.ContainsAny(h, `*?[\`) {
		p.patterns = append(p.patterns, h)
	} else {
		p.names[h] = true
	}
	return nil
}

// hostPattern checks a host name or path.Match pattern, with or without a
// port ("launch.example.com", "*.example.com:8443", "[2001:db8::1]"), and
// returns it without the port, in canonical form.
func hostPattern(h string) (string, error) {
	if strings.ContainsAny(h, "/@ ") {
		return "", errors.New("not a host name")
	}
	if h = canonicalHost(h); h == "" {
		return "", errors.New("not a host name")
	}
	if _, err := path.Match(h, ""); err != nil {
		return "", err
	}
	return h, nil
}

// originHost is the host part of an -origin pattern, which is a host
// pattern or scheme://host-pattern.
func originHost(origin string) string {
	if i := strings.Index(origin, "://"); i >= 0 {
		return origin[i+len("://"):]
	}
	return origin
}

// allows reports whether the launcher answers to hostport, a Host header.
func (p hostPolicy) allows(hostport string) bool {
	h := canonicalHost(hostport)
	if h == "" {
		return false
	}
	if p.names[h] {
		return true
	}
	if p.anyIP {
		if _, err := netip.ParseAddr(h); err == nil {
			return true
		}
	}
	for _, pat := range p.patterns {
		if ok, _ := path.Match(pat, h); ok {
			return true
		}
	}
	return false
}

// canonicalHost strips the port and IPv6 brackets from hostport, and
// returns an address in its canonical form and a name in lower case. It
// returns "" for a name that is not ASCII: browsers send international
// names in punycode, and Unicode case folding could turn another name into
// one of ours.
func canonicalHost(hostport string) string {
	for i := range len(hostport) {
		if hostport[i] >= utf8.RuneSelf {
			return ""
		}
	}
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	} else if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap().String()
	}
	return strings.ToLower(h)
}

// checkHost answers a request for a host the launcher does not serve with
// 421 and reports false.
func (p hostPolicy) checkHost(w http.ResponseWriter, r *http.Request) bool {
	if p.allows(r.Host) {
		return true
	}
	http.Error(w, "misdirected request: this server does not answer to that host name", http.StatusMisdirectedRequest)
	return false
}
