package main

import (
	"container/list"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/sealkit/sealkit/resume"
	"golang.org/x/time/rate"
)

var (
	errRateLimited = errors.New("too many launches from this address, try again in a minute")
	errBusy        = errors.New("the launcher is busy with other launches: try again in a minute")
)

// Launch limits of one instance.
const (
	launchInterval    = 20 * time.Second // one more launch per client per interval
	launchBurst       = 5                // launches a client may make at once
	maxTrackedClients = 10000            // rate-limit table size
)

// admission charges a deploy that will drive Fly (a launch, a resume
// nobody here runs, a manage action) to its client: a token of its rate
// limit, and one of this instance's slots.
type admission struct {
	limiter *limiter
	slots   chan struct{} // one per deploy driven here and still running
	log     *slog.Logger
}

func newAdmission(now func() time.Time, slots int, log *slog.Logger) (*admission, error) {
	l, err := newLimiter(launchInterval, launchBurst, maxTrackedClients, now)
	return &admission{limiter: l, slots: make(chan struct{}, slots), log: log}, err
}

// admit takes client's token and a slot. refund gives the token back, for
// a deploy refused before it started (only launches that really start
// cost a token); release frees the slot once the deploy has ended.
func (a *admission) admit(client netip.Addr) (refund, release func(), err error) {
	refund, ok := a.limiter.reserve(client)
	if !ok {
		a.log.Warn("launch rate limited", "client", client)
		return nil, nil, errRateLimited
	}
	select {
	case a.slots <- struct{}{}:
		return refund, func() { <-a.slots }, nil
	default:
		refund()
		return nil, nil, errBusy
	}
}

// limiter is a token bucket per client (resume.ClientKey: an IPv4 address
// or an IPv6 /64): each client may launch burst times at once, then once per
// interval. It tracks at most maxKeys clients and makes room by forgetting
// the least recently used one, so a flood of addresses costs the flooder
// its own history and never locks out a new client.
type limiter struct {
	every   rate.Limit
	burst   int
	maxKeys int
	now     func() time.Time

	mu      sync.Mutex
	buckets map[netip.Prefix]*list.Element // of *bucket
	lru     *list.List                     // most recently used first
}

type bucket struct {
	key netip.Prefix
	lim *rate.Limiter
}

// newLimiter returns a limiter allowing burst launches at once and one more
// per every, for at most maxKeys clients tracked at a time. now is its
// clock.
func newLimiter(every time.Duration, burst, maxKeys int, now func() time.Time) (*limiter, error) {
	if every <= 0 || burst < 1 || maxKeys < 1 || now == nil {
		return nil, errors.New("rate limiter: every, burst and maxKeys must be positive, now non-nil")
	}
	return &limiter{
		every: rate.Every(every), burst: burst, maxKeys: maxKeys, now: now,
		buckets: make(map[netip.Prefix]*list.Element), lru: list.New(),
	}, nil
}

// reserve takes a token from the bucket of addr's client. ok is false when
// the client is limited now, and nothing is taken. Otherwise cancel gives
// the token back, for a launch refused after the check; calling it more
// than once gives back one token.
func (l *limiter) reserve(addr netip.Addr) (cancel func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	lim := l.bucket(resume.ClientKey(addr))
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
func (l *limiter) bucket(key netip.Prefix) *rate.Limiter {
	if e, ok := l.buckets[key]; ok {
		l.lru.MoveToFront(e)
		return e.Value.(*bucket).lim
	}
	if l.lru.Len() >= l.maxKeys {
		oldest := l.lru.Back()
		delete(l.buckets, oldest.Value.(*bucket).key)
		l.lru.Remove(oldest)
	}
	b := &bucket{key: key, lim: rate.NewLimiter(l.every, l.burst)}
	l.buckets[key] = l.lru.PushFront(b)
	return b.lim
}
