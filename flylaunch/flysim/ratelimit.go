package flysim

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// The Machines API's rate limits, as "Working with the Machines API"
// (https://fly.io/docs/machines/api/working-with-machines-api/#rate-limits)
// gives them: limits apply "per-action, per-machine and are scoped per
// identifier. That might be Machine ID or App ID, depending on the type of
// request. The limit is 1 request, per second, per action (i.e. Create
// Machine, Start Machine etc.) — with a short-term burst limit up to 3
// req/s, per action. This applies to all actions except Get Machine which
// is 5 req/s, with a short-term burst limit up to 10 req/s. Additionally,
// app deletions are limited to 100 per minute." A Fly staff answer
// (https://community.fly.io/t/understanding-fly-io-api-rate-hard-limits/20636)
// gives the same numbers. The docs name Get Machine alone for the higher
// ceiling; flysim gives it to every read (GET), the "separate ceiling for
// reads", because Fly's own clients poll reads faster than 1 a second:
// fly-go v0.9.3's WaitForApp retries GetApp from 100 ms on
// (flaps/flaps_apps.go, flaps/retry.go Retry), and flyctl's WaitForState
// retries /wait from 500 ms (internal/machine/leasable_machine.go).
const (
	actionRate       = 1 // requests per simulated second, per action and identifier
	actionBurst      = 3
	readRate         = 5 // Get Machine's, given to every GET
	readBurst        = 10
	appDeletesPerMin = 100
)

// limitKey names one token bucket: the caller's token, the action (the
// route pattern) and the identifier it is scoped to.
type limitKey struct {
	token, action, id string
}

// rateLimited applies the Profile's rate limits to r, served by the route
// pattern; it answers 429 with Retry-After and reports true when r is over
// a limit. Buckets are per token, per action, per identifier: the machine
// (or volume) ID the route names, else the app, else the organization's
// token alone (creating and listing apps). Deleting apps has a second
// bucket per token, 100 a minute. Rates are in simulated time, like the
// Profile's windows: at Speed 100 a bucket refills a hundred times faster.
// Retry-After is the wall time until the bucket has a token, in whole
// seconds rounded up, as Fly sends it.
func (s *Server) rateLimited(w http.ResponseWriter, r *http.Request, pattern string) bool {
	if !s.prof.RateLimits {
		return false
	}
	token := bearer(r)
	id := r.PathValue("id")
	if id == "" {
		id = r.PathValue("app")
	}
	keys := []limitKey{{token, pattern, id}}
	if pattern == "DELETE /v1/apps/{app}" {
		keys = append(keys, limitKey{token, "app deletions", ""})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var wait time.Duration
	reserved := make([]*rate.Reservation, 0, len(keys))
	for _, k := range keys {
		res := s.limiter(k).ReserveN(now, 1)
		reserved = append(reserved, res)
		wait = max(wait, res.DelayFrom(now))
	}
	if wait <= 0 {
		return false
	}
	for _, res := range reserved {
		res.CancelAt(now) // a refused request uses up no token
	}
	s.throttled[pattern]++
	secs := int64(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	writeError(w, http.StatusTooManyRequests, fmt.Sprintf("rate limit exceeded for %s, retry in %ds", pattern, max(secs, 1)))
	return true
}

// limiter returns k's bucket, made on first use. Callers hold s.mu.
func (s *Server) limiter(k limitKey) *rate.Limiter {
	if l, ok := s.limiters[k]; ok {
		return l
	}
	per, burst := float64(actionRate), actionBurst
	switch {
	case strings.HasPrefix(k.action, "GET "):
		per, burst = readRate, readBurst
	case k.action == "app deletions":
		per, burst = appDeletesPerMin/60.0, appDeletesPerMin
	}
	l := rate.NewLimiter(rate.Limit(per*s.speed), burst)
	s.limiters[k] = l
	return l
}

// Throttled reports how many requests were answered 429 by the Profile's
// rate limits, per "METHOD /pattern" (injected faults not included).
func (s *Server) Throttled() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.throttled))
	for k, v := range s.throttled {
		out[k] = v
	}
	return out
}

// bearer returns r's token, "" if none.
func bearer(r *http.Request) string {
	_, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.TrimSpace(tok)
}
