package resume

import (
	"container/list"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimiter meters what each client does that costs the application
// something (starting a job, reading a paid API): a token bucket per
// client, counted by [ClientKey] like [Options.MaxConnsPerClient], so an
// IPv6 client cannot escape it by spreading over the addresses of its
// /64. It keeps at most maxClients buckets and makes room by forgetting
// the least recently used client, so a flood of addresses costs the
// flooder its own history and never locks out a new client.
//
// Meter by [Conn.ClientAddr] in an [App]'s Action. A RateLimiter is safe
// for concurrent use.
type RateLimiter struct {
	every      rate.Limit
	burst      int
	maxClients int
	now        func() time.Time

	mu      sync.Mutex
	buckets map[netip.Prefix]*list.Element // of *clientBucket
	lru     *list.List                     // most recently used first
}

type clientBucket struct {
	key netip.Prefix
	lim *rate.Limiter
}

// NewRateLimiter returns a RateLimiter that lets each client act burst
// times at once, then once more per every, and tracks at most maxClients
// clients. now is its clock; nil means time.Now. It returns an error
// wrapping ErrInvalidOptions unless every, burst and maxClients are
// positive.
func NewRateLimiter(every time.Duration, burst, maxClients int, now func() time.Time) (*RateLimiter, error) {
	if every <= 0 || burst < 1 || maxClients < 1 {
		return nil, fmt.Errorf("%w: rate limiter: every, burst and maxClients must be positive", ErrInvalidOptions)
	}
	if now == nil {
		now = time.Now
	}
	return &RateLimiter{
		every: rate.Every(every), burst: burst, maxClients: maxClients, now: now,
		buckets: make(map[netip.Prefix]*list.Element), lru: list.New(),
	}, nil
}

// Reserve takes a token from the bucket of addr's client. ok is false, and
// nothing is taken, when the client is limited now. Otherwise cancel gives
// the token back, for an action refused after the check, so that only
// actions that really start cost a token; calling it more than once gives
// back one token. A refused attempt counts as use of the client's bucket
// for the eviction order.
func (l *RateLimiter) Reserve(addr netip.Addr) (cancel func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	lim := l.bucket(ClientKey(addr))
	if lim.TokensAt(now) < 1 {
		return func() {}, false
	}
	r := lim.ReserveN(now, 1)
	// CancelAt restores nothing for a time after the reservation took
	// effect, so cancel as of the moment the token was taken: the bucket
	// ends up as if it never had been.
	return sync.OnceFunc(func() { r.CancelAt(now) }), true
}

// bucket returns key's bucket, creating it (and evicting the least
// recently used one when full) if needed. l.mu must be held.
func (l *RateLimiter) bucket(key netip.Prefix) *rate.Limiter {
	if e, ok := l.buckets[key]; ok {
		l.lru.MoveToFront(e)
		return e.Value.(*clientBucket).lim
	}
	if l.lru.Len() >= l.maxClients {
		oldest := l.lru.Back()
		delete(l.buckets, oldest.Value.(*clientBucket).key)
		l.lru.Remove(oldest)
	}
	b := &clientBucket{key: key, lim: rate.NewLimiter(l.every, l.burst)}
	l.buckets[key] = l.lru.PushFront(b)
	return b.lim
}
