package resume

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

// AllowHosts returns a handler that passes to next only the requests whose
// Host is one of hosts, and answers every other request with 421
// Misdirected Request. Put it in front of the whole application, resume
// Handler included: it is the defence against DNS rebinding. A page on
// attacker.example whose name the attacker points at the server's address
// is same-origin with itself, so the browser lets it talk to the server,
// but every request it makes carries Host: attacker.example. An Origin
// check cannot catch that (Origin and Host agree); only a list of the
// server's own names can.
//
// Each of hosts is one of:
//
//   - a host name, "launch.example.com";
//   - a [path.Match] pattern of host names, "*.example.com" or "box-?.lan"
//     ("*" does not match a dot);
//   - an IP address, "192.0.2.7", "2001:db8::7" or "[2001:db8::7]";
//   - an IP prefix, "10.0.0.0/8", which admits every address in it when it
//     is the Host, so "0.0.0.0/0" and "::/0" admit every IP literal;
//   - scheme://host, the form of an Options.OriginPatterns pattern that
//     names a scheme, which stands for its host: the origins a page may
//     connect from are usually names the server answers to, so one list can
//     serve both.
//
// A port in an entry or in the Host is ignored, names are compared
// without regard to ASCII case, and IPv4-mapped IPv6 addresses as IPv4. A
// Host that is empty or not ASCII is refused: browsers send international
// names in punycode, and Unicode case folding could turn another name into
// one of ours. [ListenHosts] gives the names a server answers to on its
// listen address.
//
// AllowHosts checks every entry at once and returns an error wrapping
// [ErrInvalidHost] for one it cannot use (a URL with a path, a bad
// pattern, a name that is not ASCII) or for an empty list.
func AllowHosts(next http.Handler, hosts ...string) (http.Handler, error) {
	if next == nil {
		return nil, fmt.Errorf("%w: nil handler", ErrInvalidHost)
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("%w: no host allowed", ErrInvalidHost)
	}
	c := &hostCheck{next: next, names: make(map[string]bool, len(hosts))}
	for _, h := range hosts {
		if err := c.add(h); err != nil {
			return nil, fmt.Errorf("%w: %q: %s", ErrInvalidHost, h, err)
		}
	}
	return c, nil
}

// ListenHosts returns the hosts, in the form AllowHosts takes, that a
// server listening on addr (host:port, as given to net.Listen) answers to
// when a client reaches it directly:
//
//   - for a loopback address (127.0.0.1, [::1], localhost), the loopback
//     names 127.0.0.1, localhost and ::1, and the address itself;
//   - for a wildcard address (":8080", "0.0.0.0:8080", "[::]:8080"), the
//     loopback names and every IP literal ("0.0.0.0/0", "::/0"): a
//     rebinding page always reaches the server under a DNS name, never
//     under an address, and a bare address is how health checkers and users
//     on the LAN reach a server;
//   - otherwise, the host of addr.
//
// Add the public names the server is reached under (behind a proxy, the
// names the proxy passes on as Host). It returns an error wrapping
// [ErrInvalidHost] if addr is not host:port.
func ListenHosts(addr string) ([]string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%w: listen address %q: %w", ErrInvalidHost, addr, err)
	}
	loopback := []string{"127.0.0.1", "localhost", "::1"}
	a, err := netip.ParseAddr(host)
	ip := err == nil
	switch {
	case host == "" || ip && a.IsUnspecified():
		return append(loopback, "0.0.0.0/0", "::/0"), nil
	case strings.EqualFold(host, "localhost"):
		return loopback, nil
	case ip && a.IsLoopback():
		if s := a.Unmap().String(); s != "127.0.0.1" && s != "::1" {
			loopback = append(loopback, s)
		}
		return loopback, nil
	}
	return []string{host}, nil
}

// hostCheck is the handler of AllowHosts.
type hostCheck struct {
	next     http.Handler
	names    map[string]bool // canonical host names and addresses
	patterns []string        // path.Match patterns, lower-case
	prefixes []netip.Prefix  // IP-literal Hosts admitted by range
}

// add adds one entry of AllowHosts.
func (c *hostCheck) add(entry string) error {
	h := entry
	if _, host, ok := strings.Cut(h, "://"); ok {
		h = host
	}
	if p, err := netip.ParsePrefix(h); err == nil {
		c.prefixes = append(c.prefixes, p.Masked())
		return nil
	}
	if strings.ContainsAny(h, "/@ ") {
		return errors.New("not a host name, IP address or prefix")
	}
	if h = canonicalHost(h); h == "" {
		return errors.New("not a host name, IP address or prefix")
	}
	if _, err := path.Match(h, ""); err != nil {
		return err
	}
	if strings.ContainsAny(h, `*?[\`) {
		c.patterns = append(c.patterns, h)
	} else {
		c.names[h] = true
	}
	return nil
}

// allows reports whether the server answers to hostport, a Host header.
func (c *hostCheck) allows(hostport string) bool {
	h := canonicalHost(hostport)
	if h == "" {
		return false
	}
	if c.names[h] {
		return true
	}
	if len(c.prefixes) > 0 {
		if a, err := netip.ParseAddr(h); err == nil {
			for _, p := range c.prefixes {
				if p.Contains(a) {
					return true
				}
			}
		}
	}
	for _, pat := range c.patterns {
		if ok, _ := path.Match(pat, h); ok {
			return true
		}
	}
	return false
}

// ServeHTTP answers a request for a host not on the list with 421, and
// passes the others to next.
func (c *hostCheck) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !c.allows(r.Host) {
		http.Error(w, "misdirected request: this server does not answer to that host name", http.StatusMisdirectedRequest)
		return
	}
	c.next.ServeHTTP(w, r)
}

// canonicalHost strips the port and IPv6 brackets from hostport, and
// returns an address in its canonical form (IPv4-mapped addresses as IPv4)
// and a name in lower case. It returns "" for a name that is not ASCII.
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
