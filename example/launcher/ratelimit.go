package main

import (
	"errors"
	"sync"
	"time"
)

// errRateLimited reports a client that launched too often.
var errRateLimited = errors.New("too many launches from this address, try again in a minute")

// rateLimiter is a token bucket per client key (the remote IP): each client
// may launch burst times at once, then once per interval.
type rateLimiter struct {
	interval time.Duration
	burst    float64
	now      func() time.Time
	maxKeys  int

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// newRateLimiter returns a limiter allowing burst launches at once and one
// more per interval, for at most maxKeys clients tracked at a time.
func newRateLimiter(interval time.Duration, burst, maxKeys int, now func() time.Time) (*rateLimiter, error) {
	if interval <= 0 || burst < 1 || maxKeys < 1 || now == nil {
		return nil, errors.New("rate limiter: interval, burst and maxKeys must be positive, now non-nil")
	}
	return &rateLimiter{
		interval: interval, burst: float64(burst), now: now, maxKeys: maxKeys,
		buckets: make(map[string]*bucket),
	}, nil
}

// allow takes a token from key's bucket and reports whether there was one.
func (l *rateLimiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.maxKeys {
			l.evict(now)
		}
		if len(l.buckets) >= l.maxKeys {
			return false // every tracked client is still limited: fail closed
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (l *rateLimiter) refill(b *bucket, now time.Time) {
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+float64(elapsed)/float64(l.interval))
		b.at = now
	}
}

// evict forgets the clients whose buckets are full again: they are
// indistinguishable from new ones.
func (l *rateLimiter) evict(now time.Time) {
	for k, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.buckets, k)
		}
	}
}
