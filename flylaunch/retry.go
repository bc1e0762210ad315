package flylaunch

import (
	"context"
	"fmt"
	"math/rand/v2"
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
