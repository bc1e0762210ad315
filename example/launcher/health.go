package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Readiness probe bounds: the probe gives up well within what a caller of
// /readyz (or a page opening) waits.
const (
	probeTimeout = 4 * time.Second  // one call to the Fly API
	probeFresh   = 30 * time.Second // a good result stands this long
	probeRetry   = 5 * time.Second  // a bad one this long
)

// errNotProbed is the readiness before the first probe has returned.
var errNotProbed = errors.New("the Fly API has not been probed yet")

// liveness serves GET /healthz, the check Fly's proxy routes by: 200 "ok"
// while the process serves HTTP, whatever the Fly API does. Routing must
// not depend on the Fly API: when it is slow or refuses the token, pages,
// manage links and resumes still work (only new launches cannot start),
// and a check that failed then would take every instance out of routing.
func liveness(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// errLaunchUnavailable refuses a launch while the Fly API does not answer.
var errLaunchUnavailable = errors.New("launching is unavailable right now: Fly.io cannot be reached. " +
	"Try again in a few minutes. Your Livebooks and their manage links still work")

// unavailableMessage is what the page says while the Fly API does not
// answer: errLaunchUnavailable as the sentence an action's error becomes.
var unavailableMessage = sentence(errLaunchUnavailable.Error())

// readiness serves GET /readyz, which no routing depends on (fly.toml must
// not check it): 200 "ok" once this instance can serve a launch, 503 until
// then. The page asks it too (launchApp.ready), to say that launching is
// unavailable. The key base is loaded before the server exists
// (newServer needs its sealer), so what is left to know is whether the Fly
// Machines API answers with the launcher's token: probe finds out. Its
// result is cached (probeFresh, probeRetry after a failure) and only one
// probe runs at a time, so /healthz, which anyone can call, costs Fly at
// most one call per interval whatever the rate of requests; while a probe
// runs, other requests get the last result.
type readiness struct {
	probe func(context.Context) error
	now   func() time.Time
	log   *slog.Logger

	mu      sync.Mutex
	probing bool
	err     error     // the last result
	until   time.Time // when it goes stale
}

func newReadiness(probe func(context.Context) error, now func() time.Time, log *slog.Logger) *readiness {
	return &readiness{probe: probe, now: now, log: log, err: errNotProbed}
}

// check returns the cached result, or probes when it is stale and no other
// probe runs.
func (rd *readiness) check(ctx context.Context) error {
	rd.mu.Lock()
	if rd.probing || rd.now().Before(rd.until) {
		err := rd.err
		rd.mu.Unlock()
		return err
	}
	rd.probing = true
	rd.mu.Unlock()

	// The probe outlives a health checker that hangs up: its result is
	// for everyone.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), probeTimeout)
	err := rd.probe(pctx)
	cancel()

	rd.mu.Lock()
	defer rd.mu.Unlock()
	rd.probing = false
	if rd.err == errNotProbed || (err == nil) != (rd.err == nil) {
		rd.logChange(err)
	}
	rd.err, rd.until = err, rd.now().Add(probeFresh)
	if err != nil {
		rd.until = rd.now().Add(probeRetry)
	}
	return err
}

// logChange logs a change of readiness, once per change.
func (rd *readiness) logChange(err error) {
	if err == nil {
		rd.log.Info("ready: the Fly API answers")
		return
	}
	rd.log.Warn("not ready", "err", err)
}

// ready reports whether launching is possible: false only when the last
// probe says the Fly API does not answer or refuses the token (not before
// the first probe has returned).
func (rd *readiness) ready(ctx context.Context) bool {
	err := rd.check(ctx)
	return err == nil || errors.Is(err, errNotProbed)
}

// ServeHTTP answers a readiness check. The body says why it is not ready in
// general terms; the log has the detail.
func (rd *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	switch err := rd.check(r.Context()); {
	case err == nil:
		_, _ = w.Write([]byte("ok\n"))
	case errors.Is(err, errFlyToken):
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("not ready: the Fly API refused the token\n"))
	default:
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("not ready: the Fly API did not answer\n"))
	}
}
