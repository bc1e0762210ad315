package resume

import (
	"net/netip"
	"sync"
)

// connCap counts each client's open connections, WebSockets and fallback
// streams together, for Options.MaxConnsPerClient. Clients are keyed by
// ClientKey, so an IPv6 client cannot escape the cap by spreading its
// connections over the addresses of its /64.
type connCap struct {
	limit int

	mu   sync.Mutex
	open map[netip.Prefix]int // only keys with open connections
}

// newConnCap returns the cap of limit connections per client; nil, which
// admits everything, when limit is 0.
func newConnCap(limit int) *connCap {
	if limit == 0 {
		return nil
	}
	return &connCap{limit: limit, open: make(map[netip.Prefix]int)}
}

// acquire counts one more connection of key and reports true, or reports
// false when key already holds limit.
func (c *connCap) acquire(key netip.Prefix) bool {
	if c == nil {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[key] >= c.limit {
		return false
	}
	c.open[key]++
	return true
}

// release ends a connection acquire counted.
func (c *connCap) release(key netip.Prefix) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[key]--; c.open[key] <= 0 {
		delete(c.open, key)
	}
}
