package main

import (
	"errors"
	"log/slog"
	"net/netip"
	"time"

	"github.com/sealkit/sealkit/resume"
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
	limiter *resume.RateLimiter
	slots   chan struct{} // one per deploy driven here and still running
	log     *slog.Logger
}

func newAdmission(now func() time.Time, slots int, log *slog.Logger) (*admission, error) {
	l, err := resume.NewRateLimiter(launchInterval, launchBurst, maxTrackedClients, now)
	return &admission{limiter: l, slots: make(chan struct{}, slots), log: log}, err
}

// admit takes client's token and a slot. refund gives the token back, for
// a deploy refused before it started (only launches that really start
// cost a token); release frees the slot once the deploy has ended.
func (a *admission) admit(client netip.Addr) (refund, release func(), err error) {
	refund, ok := a.limiter.Reserve(client)
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
