package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestRateLimiter(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l, err := newRateLimiter(time.Minute, 3, 100, clk.now)
	require.NoError(t, err)

	for i := range 3 {
		assert.True(t, l.allow("10.0.0.1"), "burst launch %d", i)
	}
	assert.False(t, l.allow("10.0.0.1"), "the fourth launch at once is limited")
	assert.True(t, l.allow("10.0.0.2"), "another client has its own bucket")

	clk.advance(59 * time.Second)
	assert.False(t, l.allow("10.0.0.1"), "not a whole token yet")
	clk.advance(time.Second)
	assert.True(t, l.allow("10.0.0.1"), "one token per interval")
	assert.False(t, l.allow("10.0.0.1"))

	clk.advance(time.Hour)
	for range 3 {
		assert.True(t, l.allow("10.0.0.1"), "the bucket refills up to the burst")
	}
	assert.False(t, l.allow("10.0.0.1"), "and no further")
}

func TestRateLimiterBoundedMemory(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l, err := newRateLimiter(time.Minute, 1, 2, clk.now)
	require.NoError(t, err)
	assert.True(t, l.allow("a"))
	assert.True(t, l.allow("b"))
	assert.False(t, l.allow("c"), "the table is full of limited clients: fail closed")
	clk.advance(time.Minute)
	assert.True(t, l.allow("c"), "refilled clients are forgotten to make room")
	assert.LessOrEqual(t, len(l.buckets), 2)
}

func TestNewRateLimiterValidates(t *testing.T) {
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
			_, err := newRateLimiter(tt.interval, tt.burst, tt.maxKeys, tt.now)
			require.Error(t, err)
		})
	}
}
