// Package fakeclock is the clock sealkit's tests move by hand: a time that
// stands still until Set or Advance moves it. It is safe for concurrent
// use, so a clock handed to a server under test can be moved from the
// test's goroutine.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is a settable clock; its Now is what the code under test calls.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// At returns a clock standing at t.
func At(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
