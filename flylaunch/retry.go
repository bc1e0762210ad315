package flylaunch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// RetryPolicy bounds the retries of transient failures. Delays grow
// exponentially from BaseDelay up to MaxDelay, with full jitter: each wait
// is uniform in [0, min(MaxDelay, BaseDelay·2^attempt)).
type RetryPolicy struct {
	// MaxAttempts is the number of tries per call, retries included;
	// default 8.
	MaxAttempts int
	// BaseDelay is the backoff cap of the first retry; default 200ms.
	BaseDelay time.Duration
	// MaxDelay caps every wait; default 10s.
	MaxDelay time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = 8
	}
	if p.BaseDelay == 0 {
		p.BaseDelay = 200 * time.Millisecond
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = 10 * time.Second
	}
	return p
}

// validate checks p as Options.Retry; errors wrap ErrInvalidOptions.
func (p RetryPolicy) validate() error {
	switch {
	case p.MaxAttempts < 0 || p.BaseDelay < 0 || p.MaxDelay < 0:
		return fmt.Errorf("%w: Retry fields must not be negative", ErrInvalidOptions)
	case p.MaxDelay != 0 && p.BaseDelay > p.MaxDelay:
		return fmt.Errorf("%w: Retry.BaseDelay %v exceeds MaxDelay %v", ErrInvalidOptions, p.BaseDelay, p.MaxDelay)
	}
	return nil
}

// Delay returns the full-jitter wait before retry number attempt (0 for the
// first retry): uniform in [0, min(MaxDelay, BaseDelay·2^attempt)).
func (p RetryPolicy) Delay(attempt int) time.Duration {
	p = p.withDefaults()
	ceiling := p.MaxDelay
	if attempt < 62 {
		if d := p.BaseDelay << attempt; d > 0 && d < ceiling {
			ceiling = d
		}
	}
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling)
}

// sleep waits d or until ctx is done, returning ctx's error in that case.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// try runs one API call under the per-call timeout (plus extra, for calls
// that wait server-side).
func (d *driver) try(ctx context.Context, extra time.Duration, fn func(context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, d.l.callTimeout+extra)
	defer cancel()
	return fn(cctx)
}

// call runs fn as one API call under the per-call timeout, retried as
// retry retries (fn is the call itself: it re-checks nothing).
func (d *driver) call(ctx context.Context, op string, fn func(context.Context) error) error {
	return d.retry(ctx, op, func(ctx context.Context) error { return d.try(ctx, 0, fn) })
}

// retry runs body until it succeeds, fails permanently or runs out of
// attempts. body must re-check Fly's state before acting, so running it
// again after an ambiguous failure adopts what the failed call created.
// A 401, 403 or 404 before d.visibleBy is Fly catching up, retried at the
// poll interval without using up attempts; a 429's Retry-After is waited
// out. Errors are returned as *APIError, or ctx's error once it is done.
func (d *driver) retry(ctx context.Context, op string, body func(context.Context) error) error {
	unseen := 0 // answers of a Fly that has not caught up yet
	for attempt := 1; ; attempt++ {
		hint := &retryHint{}
		err := body(withRetryHint(ctx, hint))
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ae *APIError
		if errors.As(err, &ae) {
			return err
		}
		if notVisibleYet(err) && !isNoCapacity(err) && time.Now().Before(d.visibleBy) {
			attempt--
			unseen++
			if err := sleep(ctx, min(d.l.pollInterval<<min(unseen-1, 2), time.Until(d.visibleBy))); err != nil {
				return err
			}
			continue
		}
		if d.resumed && statusOf(err) == http.StatusNotFound {
			return d.gone(op, err)
		}
		if !retryable(ctx, err) || isNoCapacity(err) || attempt >= d.l.retry.MaxAttempts {
			return newAPIError(d.step, op, attempt, err)
		}
		delay := max(d.l.retry.Delay(attempt-1), hint.after())
		msg := fmt.Sprintf("%s: %s; retry %d of %d in %v", op, failureSummary(err), attempt, d.l.retry.MaxAttempts-1, delay.Round(time.Millisecond))
		if d.dep != nil {
			d.dep.emit(d.step, StatusRetrying, msg, nil)
		}
		d.l.log.Debug("flylaunch: retrying", "launch_id", d.rec.LaunchID, "op", op, "livebook_op", string(d.op), "attempt", attempt, "status", statusOf(err))
		if err := sleep(ctx, delay); err != nil {
			return err
		}
	}
}

// notVisibleYet reports the answers Fly gives about a resource it has not
// caught up with: 404, and for an app 401 or 403.
func notVisibleYet(err error) bool {
	switch statusOf(err) {
	case http.StatusNotFound, http.StatusUnauthorized, http.StatusForbidden:
		return true
	}
	return false
}

// failureSummary describes a transient failure without Fly's message body.
func failureSummary(err error) string {
	if s := statusOf(err); s != 0 {
		return fmt.Sprintf("HTTP %d %s", s, http.StatusText(s))
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "call timed out"
	}
	return "connection error"
}

func isNoCapacity(err error) bool {
	return errors.Is(newAPIError("", "", 0, err), ErrNoCapacity)
}
