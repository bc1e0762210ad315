package flylaunch

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Readiness probe bounds: one call to Fly within readyTimeout; a good
// result stands readyFresh, a bad one readyRetry.
const (
	readyTimeout = 4 * time.Second
	readyFresh   = 30 * time.Second
	readyRetry   = 5 * time.Second
)

// ErrUnreachable: the Fly Machines API did not answer (a connection error,
// a timeout, an answer other than the token's verdict).
var ErrUnreachable = errors.New("flylaunch: the Fly API did not answer")

// readiness is the cached result of the Launcher's probes.
type readiness struct {
	app string // a random valid app name nobody has: Fly answers 404

	mu      sync.Mutex
	probing bool
	known   bool
	err     error     // the last result
	until   time.Time // when it goes stale
}

// Ready reports whether the Fly Machines API answers the Launcher's token:
// nil if it does, an error matching [ErrTokenRefused] if Fly refuses the
// token (401), [ErrUnreachable] if it does not answer. It asks Fly for an
// app nobody has (a 404, or a 403 for another org's, proves that the API
// answers and takes the token) at most once per 30 s while Fly answers and
// once per 5 s while it does not, one call at a time: meanwhile callers
// get the last result (nil before the first), so a readiness endpoint
// anyone may call costs Fly little. A Launcher without a client of its own
// has no token to ask with: nil. No error holds the token.
func (l *Launcher) Ready(ctx context.Context) error {
	if l.client == nil {
		return nil
	}
	r := l.ready
	r.mu.Lock()
	if r.probing || l.clock().Before(r.until) {
		defer r.mu.Unlock()
		return r.err
	}
	r.probing = true
	r.mu.Unlock()
	// The probe outlives a caller that hangs up: its result is everyone's.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readyTimeout)
	err := l.probe(pctx)
	cancel()

	r.mu.Lock()
	defer r.mu.Unlock()
	r.probing = false
	switch {
	case r.known && (err == nil) == (r.err == nil): // no change to log
	case err == nil:
		l.log.Info("ready: the Fly API answers")
	default:
		l.log.Warn("not ready", "err", err)
	}
	r.known, r.err, r.until = true, err, l.clock().Add(readyFresh)
	if err != nil {
		r.until = l.clock().Add(readyRetry)
	}
	return err
}

// probe asks Fly for the probe's app; fly-go's errors hold Fly's message
// and the URL, whose only variable part is that name.
func (l *Launcher) probe(ctx context.Context) error {
	_, err := l.client.GetApp(ctx, l.ready.app)
	switch st := statusOf(err); {
	case err == nil, st == http.StatusNotFound, st == http.StatusForbidden:
		return nil
	case st == http.StatusUnauthorized:
		return fmt.Errorf("%w (HTTP 401)", ErrTokenRefused)
	case st != 0:
		return fmt.Errorf("%w: HTTP %d", ErrUnreachable, st)
	}
	return fmt.Errorf("%w: %w", ErrUnreachable, err)
}

func newReadiness() *readiness {
	return &readiness{app: "flylaunch-probe-" + strings.ToLower(rand.Text()[:16])}
}
