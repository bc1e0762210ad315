package main

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a clock a test moves by hand; safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestLimiter(t *testing.T, burst, maxKeys int) (*limiter, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l, err := newLimiter(time.Minute, burst, maxKeys, clk.now)
	require.NoError(t, err)
	return l, clk
}

// allowed takes a token for addr and reports whether there was one.
func allowed(l *limiter, addr string) bool {
	_, ok := l.reserve(netip.MustParseAddr(addr))
	return ok
}

func TestLimiter(t *testing.T) {
	l, clk := newTestLimiter(t, 3, 100)
	for i := range 3 {
		assert.True(t, allowed(l, "10.0.0.1"), "burst launch %d", i)
	}
	assert.False(t, allowed(l, "10.0.0.1"), "the fourth launch at once is limited")
	assert.True(t, allowed(l, "10.0.0.2"), "another client has its own bucket")
	assert.False(t, allowed(l, "::ffff:10.0.0.1"), "an IPv4-mapped address is the IPv4 client")

	clk.advance(59 * time.Second)
	assert.False(t, allowed(l, "10.0.0.1"), "not a whole token yet")
	clk.advance(time.Second)
	assert.True(t, allowed(l, "10.0.0.1"), "one token per interval")
	assert.False(t, allowed(l, "10.0.0.1"))

	clk.advance(time.Hour)
	for range 3 {
		assert.True(t, allowed(l, "10.0.0.1"), "the bucket refills up to the burst")
	}
	assert.False(t, allowed(l, "10.0.0.1"), "and no further")
}

// TestLimiterKeysIPv6By64 is finding 4 of issue 8: one IPv6 /64 supplies
// any number of addresses, so it must be one client.
func TestLimiterKeysIPv6By64(t *testing.T) {
	l, _ := newTestLimiter(t, 2, 10_000)
	for i := range 2 {
		assert.True(t, allowed(l, fmt.Sprintf("2001:db8:1:2::%x", i+1)), "burst launch %d", i)
	}
	for i := range 100 {
		addr := fmt.Sprintf("2001:db8:1:2:%x:%x::%x", i, i*7, i+3)
		require.False(t, allowed(l, addr), "%s is in the same /64", addr)
	}
	assert.False(t, allowed(l, "2001:db8:1:2::1%eth0"), "a zone does not make another client")
	assert.True(t, allowed(l, "2001:db8:1:3::1"), "the next /64 is another client")
	assert.Equal(t, 2, l.lru.Len())
}

// TestLimiterNeverLocksOutNewClients is finding 4 of issue 8: once the
// table was full of limited clients the old limiter refused every new one.
// Now the least recently used client is forgotten instead.
func TestLimiterNeverLocksOutNewClients(t *testing.T) {
	const maxKeys = 100
	l, _ := newTestLimiter(t, 1, maxKeys)
	for i := range maxKeys {
		addr := fmt.Sprintf("2001:db8:%x::1", i)
		require.True(t, allowed(l, addr))
		require.False(t, allowed(l, addr), "%s is limited", addr)
	}
	assert.True(t, allowed(l, "192.0.2.1"), "a new client is served although every tracked one is limited")
	assert.True(t, allowed(l, "192.0.2.2"))
	assert.LessOrEqual(t, l.lru.Len(), maxKeys, "memory stays bounded")
	assert.Len(t, l.buckets, l.lru.Len())
}

func TestLimiterEvictsLeastRecentlyUsed(t *testing.T) {
	l, _ := newTestLimiter(t, 1, 2)
	require.True(t, allowed(l, "10.0.0.1"))
	require.True(t, allowed(l, "10.0.0.2"))
	require.False(t, allowed(l, "10.0.0.1"), "a refused attempt counts as use")
	require.True(t, allowed(l, "10.0.0.3"), "evicts 10.0.0.2, the least recently used")
	assert.False(t, allowed(l, "10.0.0.3"))
	assert.True(t, allowed(l, "10.0.0.2"), "forgotten, so new again (and evicts 10.0.0.1)")
	assert.True(t, allowed(l, "10.0.0.1"))
	assert.Equal(t, 2, l.lru.Len())
}

func TestLimiterCancelGivesTokenBack(t *testing.T) {
	l, clk := newTestLimiter(t, 2, 10)
	addr := netip.MustParseAddr("198.51.100.4")
	cancel, ok := l.reserve(addr)
	require.True(t, ok)
	_, ok = l.reserve(addr)
	require.True(t, ok)
	_, ok = l.reserve(addr)
	require.False(t, ok, "burst used up")

	clk.advance(10 * time.Second) // a refusal comes a little after the check
	cancel()
	cancel() // twice gives back one token
	_, ok = l.reserve(addr)
	assert.True(t, ok, "the canceled launch cost nothing")
	_, ok = l.reserve(addr)
	assert.False(t, ok, "and only one token came back")

	refused, ok := l.reserve(addr)
	require.False(t, ok)
	refused() // a no-op
	_, ok = l.reserve(addr)
	assert.False(t, ok)
}

func TestNewLimiterValidates(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		burst    int
		maxKeys  int
		now      func() time.Time
	}{
		{"zero interval", 0, 1, 1, time.Now},
		{"zero burst", time.Second, 0, 1, time.Now},
		{"zero keys", time.Second, 1, 0, time.Now},
		{"nil clock", time.Second, 1, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newLimiter(tt.interval, tt.burst, tt.maxKeys, tt.now)
			require.Error(t, err)
		})
	}
}

// BenchmarkLimiterNewClients is the worst case: every call is a client the
// full table has not seen, so each one evicts another.
func BenchmarkLimiterNewClients(b *testing.B) {
	l, err := newLimiter(launchInterval, launchBurst, maxTrackedClients, time.Now)
	require.NoError(b, err)
	var a [16]byte
	a[0], a[1] = 0x20, 0x01
	b.ReportAllocs()
	i := uint64(0)
	for b.Loop() {
		i++
		for j := range 6 {
			a[7-j] = byte(i >> (8 * j)) // a new /64 in 2001::/16 each time
		}
		l.reserve(netip.AddrFrom16(a))
	}
}

// TestRefusedLaunchCostsNoToken is finding 4 of issue 8: a token was taken
// before Fly refused the name, so refused launches used up the client's
// launches. Only launches that start cost one now.
func TestRefusedLaunchCostsNoToken(t *testing.T) {
	s := newTestServer(t, 1000, 0)
	s.fly.sim.ReserveName("someone-elses")
	c, _ := s.connect(t, "")
	c.read()
	for i := range launchBurst + 2 {
		r := c.action("launch", map[string]any{"app": "someone-elses", "region": "iad", "size": "small"})
		require.False(t, r.OK)
		require.Contains(t, r.Error, "is taken", "refusal %d", i)
	}
	for i := range launchBurst {
		c, _ := s.connect(t, "")
		c.read()
		r := c.action("launch", map[string]any{"app": fmt.Sprintf("after-refusals-%d", i), "region": "iad", "size": "small"})
		require.True(t, r.OK, "launch %d: %s", i, r.Error)
	}
}
