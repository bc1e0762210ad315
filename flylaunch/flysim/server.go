package flysim

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ErrInvalidOptions reports an Options value New cannot work with.
var ErrInvalidOptions = errors.New("flysim: invalid options")

// Options configures a Server.
type Options struct {
	// DataDir is where state persists, as DataDir/flysim.json (written
	// atomically after every change). "" keeps state in memory only.
	DataDir string
	// Speed scales simulated time: 1 is realistic (a whole launch takes
	// 30-60 s: "starting" after 2 s, "started" after 20 s, health checks
	// passing 15 s plus their grace period later), 100 is a hundred times
	// faster. Wait timeouts and the Profile's windows shrink by the same
	// factor; lease TTLs and Retry-After do not (they are wall-clock
	// seconds by Clock). 0 means 1.
	Speed float64
	// Token, if set, is the only bearer token accepted; "" accepts any
	// non-empty token. Requests without one get 401. With Tenants set,
	// Token (if set) is the operator's all-access token, accepted beside
	// the tenants' macaroons.
	Token string
	// Tenants, if set, makes the simulator a multi-tenant token issuer as
	// Fly is: it mints a macaroon token per tenant ([Server.Token]),
	// reaching the tenant's organizations, and verifies every request's
	// token and caveats (app, organization, validity window) with
	// github.com/superfly/macaroon, answering 401 "Authenticate: token
	// validation error" to a token it cannot verify and 403
	// "unauthorized" to one whose caveats do not allow the request. Empty
	// keeps the single shared Token mode.
	Tenants []Tenant
	// Clock supplies the current time; nil means time.Now. Machine states
	// and leases follow it, so a test can move a fake clock forward (a
	// pending wait notices within milliseconds).
	Clock func() time.Time
	// Logger receives one line per request, at Debug so that an
	// application's Info log stays its own, and the simulator's errors;
	// nil discards. Secret values are never logged.
	Logger *slog.Logger
	// Seed seeds fault rates, generated IDs and the propagation delays and
	// 401-or-404 choices of the Profile, for deterministic tests.
	Seed int64
	// Profile sets how slow to agree and how strict the simulator is. The
	// zero value is the default profile, [Realistic].
	Profile Profile
}

// Server is a simulated Fly Machines API. It is an http.Handler; all methods
// are safe for concurrent use.
type Server struct {
	dir    string
	seed   int64
	speed  float64
	prof   Profile
	token  string
	iss    *issuer // nil without Options.Tenants
	clock  func() time.Time
	log    *slog.Logger
	mux    *http.ServeMux
	done   chan struct{}
	closed sync.Once

	mu      sync.Mutex
	st      *state
	rng     *rand.Rand
	faults  []*faultState
	full    map[string]NoCapacity // regions without room, and how they say so
	fillVol int                   // next volumes to land on a host without room (FillVolumeHosts)
	calls   map[string]int
	// limiters and throttled: the Profile's rate limits (ratelimit.go).
	limiters  map[limitKey]*rate.Limiter
	throttled map[string]int
	changed   chan struct{} // closed and replaced on every state change
	reqSeq    uint64
}

// New validates opts, loads DataDir state if present and returns a Server.
func New(opts Options) (*Server, error) {
	speed := opts.Speed
	if speed == 0 {
		speed = 1
	}
	if speed < 0 || math.IsNaN(speed) || math.IsInf(speed, 0) {
		return nil, fmt.Errorf("%w: Speed must be a positive finite number, got %v", ErrInvalidOptions, opts.Speed)
	}
	if strings.ContainsAny(opts.Token, " \t\r\n") {
		return nil, fmt.Errorf("%w: Token must not contain whitespace", ErrInvalidOptions)
	}
	prof, err := opts.Profile.resolve()
	if err != nil {
		return nil, err
	}
	iss, err := newIssuer(opts.Seed, opts.Tenants)
	if err != nil {
		return nil, err
	}
	s := &Server{
		dir:       opts.DataDir,
		seed:      opts.Seed,
		speed:     speed,
		prof:      prof,
		token:     opts.Token,
		iss:       iss,
		clock:     opts.Clock,
		log:       opts.Logger,
		done:      make(chan struct{}),
		st:        newState(),
		rng:       rand.New(rand.NewPCG(uint64(opts.Seed), 0x5eed_f1e5)),
		full:      map[string]NoCapacity{},
		calls:     map[string]int{},
		limiters:  map[limitKey]*rate.Limiter{},
		throttled: map[string]int{},
		changed:   make(chan struct{}),
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.dir != "" {
		if err := os.MkdirAll(s.dir, 0o700); err != nil {
			return nil, fmt.Errorf("%w: DataDir: %w", ErrInvalidOptions, err)
		}
		st, err := loadState(s.dir)
		if err != nil {
			return nil, err
		}
		s.st = st
	}
	s.mux = s.routes()
	return s, nil
}

// Close stops background work (pending waits answer 503 at once) and
// flushes state to DataDir. It may be called more than once; every call
// flushes.
func (s *Server) Close() error {
	s.closed.Do(func() { close(s.done) })
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir == "" {
		return nil
	}
	return saveState(s.dir, s.st)
}

// route registers h for pattern, counting calls and applying auth and
// faults; api says whether bearer auth applies.
func (s *Server) route(mux *http.ServeMux, pattern string, api bool, h http.HandlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls[pattern]++
		s.mu.Unlock()
		if api && !s.admit(w, r, pattern) {
			return
		}
		if api && s.rateLimited(w, r, pattern) {
			return
		}
		s.serveWithFaults(w, r, h)
	})
}

// ServeHTTP serves the Machines API under /v1/ and the stand-in Livebook
// under /livebook/{app}/. Every response carries a Fly-Request-Id header.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := s.requestID()
	w.Header().Set("Fly-Request-Id", id)
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	start := time.Now()
	s.mux.ServeHTTP(rec, r)
	s.log.LogAttrs(r.Context(), slog.LevelDebug, "flysim request",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", rec.status), slog.String("request_id", id),
		slog.Duration("elapsed", time.Since(start)))
}

// Calls reports how many requests were served per "METHOD /pattern", e.g.
// "POST /v1/apps/{app}/machines", including ones answered with an injected
// fault or 401.
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// Counts reports an app's machines (neither destroying nor destroyed) and
// IP assignments, and whether the app exists, as they are: propagation
// windows do not hide anything from Counts.
func (s *Server) Counts(appName string) (machines, ips int, exists bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.st.Apps[appName]
	if !ok {
		return 0, 0, false
	}
	now := s.now()
	for _, m := range a.Machines {
		if st := s.stateAt(m, now); st != stateDestroyed && st != stateDestroying {
			machines++
		}
	}
	return machines, len(a.IPs), true
}

// ReserveName marks an app name as taken by another organization:
// CreateApp answers 422 "Name has already been taken" with the name_taken
// status code, and GetApp (like every route naming the app) answers 403
// "unauthorized", as Fly does for an app in an organization the token
// does not cover.
func (s *Server) ReserveName(appName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.Reserved[appName] = true
	_ = s.changedLocked()
}

// admit authenticates and authorizes an API request, answering 401 or
// 403 itself when it refuses.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, pattern string) bool {
	res, grants := s.authenticate(r)
	switch {
	case res == authRefused && s.iss != nil:
		writeError(w, http.StatusUnauthorized, tokenRefusal)
		return false
	case res == authRefused:
		writeError(w, http.StatusUnauthorized, "unauthorized")
		return false
	case res == authTenant && !s.permits(r, pattern, grants):
		writeError(w, http.StatusForbidden, "unauthorized")
		return false
	}
	return true
}

// permits reports whether grants allow r (see accessFor). A create's body
// is read for its organization and put back for the handler.
func (s *Server) permits(r *http.Request, pattern string, grants []grant) bool {
	var body []byte
	if pattern == "POST /v1/apps" {
		b, err := readBody(r)
		if err != nil {
			return false
		}
		body = b
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	access, ok := s.accessFor(r, pattern, body)
	if !ok {
		return true
	}
	return allows(grants, access, s.now())
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || (!strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "FlyV1")) {
		return false
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return false
	}
	if s.token == "" {
		return true
	}
	return subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) == 1
}

// requestID returns a Fly-style request ID, unique per server.
func (s *Server) requestID() string {
	s.mu.Lock()
	s.reqSeq++
	n := s.reqSeq
	r := s.rng.Uint64()
	s.mu.Unlock()
	return fmt.Sprintf("01FLYSIM%08X%010X-sim", n, r&0xFFFFFFFFFF)
}

// now is the simulator clock.
func (s *Server) now() time.Time { return s.clock() }

// changedLocked persists state and wakes waiters. Callers hold s.mu.
func (s *Server) changedLocked() error {
	close(s.changed)
	s.changed = make(chan struct{})
	if s.dir == "" {
		return nil
	}
	if err := saveState(s.dir, s.st); err != nil {
		s.log.Error("flysim: persist state", slog.String("error", err.Error()))
		return err
	}
	return nil
}

// commit persists a change made under s.mu and answers 500 if that failed.
func (s *Server) commit(w http.ResponseWriter) bool {
	if err := s.changedLocked(); err != nil {
		writeError(w, http.StatusInternalServerError, "internal: failed to persist state")
		return false
	}
	return true
}

// sleep waits d or until ctx or the server is done.
func (s *Server) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return errClosed
	}
}

var errClosed = errors.New("flysim: server closed")

// readBody reads at most 1 MiB of request body.
func readBody(r *http.Request) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r.Body, 1<<20))
}
