package resume

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/sealkit/sealkit/internal/fakeclock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newTestLimiter returns a RateLimiter of one token a minute on a fake
// clock.
func newTestLimiter(t *testing.T, burst, maxClients int) (*RateLimiter, *fakeclock.Clock) {
	t.Helper()
	clk := fakeclock.At(time.Unix(1_700_000_000, 0))
	l, err := NewRateLimiter(time.Minute, burst, maxClients, clk.Now)
	require.NoError(t, err)
	return l, clk
}

// TestRateLimiter runs each case's attempts in order: after advancing the
// clock by wait, a Reserve for addr must report want.
func TestRateLimiter(t *testing.T) {
	type attempt struct {
		wait time.Duration
		addr string
		want bool
		why  string
	}
	tests := []struct {
		name              string
		burst, maxClients int
		attempts          []attempt
	}{
		{"burst, then one per interval", 3, 100, []attempt{
			{0, "10.0.0.1", true, "burst 1"},
			{0, "10.0.0.1", true, "burst 2"},
			{0, "10.0.0.1", true, "burst 3"},
			{0, "10.0.0.1", false, "the fourth at once is limited"},
			{0, "10.0.0.2", true, "another client has its own bucket"},
			{0, "::ffff:10.0.0.1", false, "an IPv4-mapped address is the IPv4 client"},
			{59 * time.Second, "10.0.0.1", false, "not a whole token yet"},
			{time.Second, "10.0.0.1", true, "one token per interval"},
			{0, "10.0.0.1", false, "and only one"},
			{time.Hour, "10.0.0.1", true, "the bucket refills up to the burst"},
			{0, "10.0.0.1", true, "refilled 2"},
			{0, "10.0.0.1", true, "refilled 3"},
			{0, "10.0.0.1", false, "and no further"},
		}},
		// Finding 4 of issue 8: one IPv6 /64 supplies any number of
		// addresses, so it must be one client.
		{"an IPv6 /64 is one client", 2, 10_000, []attempt{
			{0, "2001:db8:1:2::1", true, "burst 1"},
			{0, "2001:db8:1:2::2", true, "burst 2"},
			{0, "2001:db8:1:2:0:7::3", false, "same /64"},
			{0, "2001:db8:1:2:ffff:ffff:ffff:ffff", false, "same /64, last address"},
			{0, "2001:db8:1:2::1%eth0", false, "a zone does not make another client"},
			{0, "2001:db8:1:3::1", true, "the next /64 is another client"},
		}},
		{"evicts the least recently used", 1, 2, []attempt{
			{0, "10.0.0.1", true, ""},
			{0, "10.0.0.2", true, ""},
			{0, "10.0.0.1", false, "a refused attempt counts as use"},
			{0, "10.0.0.3", true, "evicts 10.0.0.2, the least recently used"},
			{0, "10.0.0.3", false, ""},
			{0, "10.0.0.2", true, "forgotten, so new again (and evicts 10.0.0.1)"},
			{0, "10.0.0.1", true, ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, clk := newTestLimiter(t, tt.burst, tt.maxClients)
			for i, a := range tt.attempts {
				clk.Advance(a.wait)
				_, ok := l.Reserve(netip.MustParseAddr(a.addr))
				require.Equal(t, a.want, ok, "attempt %d, %s: %s", i, a.addr, a.why)
			}
			assert.LessOrEqual(t, l.lru.Len(), tt.maxClients)
			assert.Len(t, l.buckets, l.lru.Len())
		})
	}
}

// TestRateLimiterNeverLocksOutNewClients is finding 4 of issue 8: once
// the table was full of limited clients the old limiter refused every new
// one. Now the least recently used client is forgotten instead.
func TestRateLimiterNeverLocksOutNewClients(t *testing.T) {
	const maxClients = 100
	l, _ := newTestLimiter(t, 1, maxClients)
	for i := range maxClients {
		addr := netip.MustParseAddr(fmt.Sprintf("2001:db8:%x::1", i))
		_, ok := l.Reserve(addr)
		require.True(t, ok)
		_, ok = l.Reserve(addr)
		require.False(t, ok, "%s is limited", addr)
	}
	for _, addr := range []string{"192.0.2.1", "192.0.2.2"} {
		_, ok := l.Reserve(netip.MustParseAddr(addr))
		assert.True(t, ok, "%s is served although every tracked client is limited", addr)
	}
	assert.Equal(t, maxClients, l.lru.Len(), "memory stays bounded")
	assert.Len(t, l.buckets, maxClients)
}

func TestRateLimiterCancelGivesTokenBack(t *testing.T) {
	l, clk := newTestLimiter(t, 2, 10)
	addr := netip.MustParseAddr("198.51.100.4")
	cancel, ok := l.Reserve(addr)
	require.True(t, ok)
	_, ok = l.Reserve(addr)
	require.True(t, ok)
	_, ok = l.Reserve(addr)
	require.False(t, ok, "burst used up")

	clk.Advance(10 * time.Second) // a refusal comes a little after the check
	cancel()
	cancel() // twice gives back one token
	_, ok = l.Reserve(addr)
	assert.True(t, ok, "the canceled action cost nothing")
	_, ok = l.Reserve(addr)
	assert.False(t, ok, "and only one token came back")

	refused, ok := l.Reserve(addr)
	require.False(t, ok)
	refused() // a no-op
	_, ok = l.Reserve(addr)
	assert.False(t, ok)
}

func TestNewRateLimiter(t *testing.T) {
	tests := []struct {
		name       string
		every      time.Duration
		burst      int
		maxClients int
		now        func() time.Time
		wantErr    bool
	}{
		{"valid", time.Second, 1, 1, time.Now, false},
		{"nil clock is time.Now", time.Second, 1, 1, nil, false},
		{"zero every", 0, 1, 1, time.Now, true},
		{"negative every", -time.Second, 1, 1, time.Now, true},
		{"zero burst", time.Second, 0, 1, time.Now, true},
		{"zero clients", time.Second, 1, 0, time.Now, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := NewRateLimiter(tt.every, tt.burst, tt.maxClients, tt.now)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrInvalidOptions)
				assert.Nil(t, l)
				return
			}
			require.NoError(t, err)
			_, ok := l.Reserve(netip.MustParseAddr("192.0.2.1"))
			assert.True(t, ok)
		})
	}
}

// BenchmarkRateLimiterNewClients is the worst case: every call is a client
// the full table has not seen, so each one evicts another.
func BenchmarkRateLimiterNewClients(b *testing.B) {
	l, err := NewRateLimiter(20*time.Second, 5, 10_000, nil)
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
		l.Reserve(netip.AddrFrom16(a))
	}
}
