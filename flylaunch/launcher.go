package flylaunch

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/superfly/fly-go/flaps"
	"github.com/superfly/fly-go/tokens"
)

// Options configures a [Launcher]. Every field is optional.
type Options struct {
	// Client is the Machines API client, e.g. from [NewClient]. Without
	// one the Launcher has no token of its own: deploys and Livebooks run
	// only through [Launcher.As] (a launcher deploying with each visitor's
	// token, say), and its own Start, Resume and Livebook return an error
	// matching [ErrNoClient].
	Client *flaps.Client
	// Logger receives step-level logs (never secret values); default
	// discards.
	Logger *slog.Logger
	// CallTimeout bounds each API call (fly-go's client has no timeout);
	// default 30s. The machine wait call gets its own 60s on top.
	CallTimeout time.Duration
	// StartDeadline bounds waiting for the machine to start and pass its
	// health checks, from the start of [StepStarted]; default 5m.
	StartDeadline time.Duration
	// PollInterval is the pause between polls while waiting for an app to
	// become visible and for health checks to pass (backing off to four
	// times it); default 1s.
	PollInterval time.Duration
	// Retry bounds retries of transient failures.
	Retry RetryPolicy
	// Propagation bounds how long Fly may take to agree with itself after
	// a write; default 30s. An app or machine this deploy created, or one
	// a resumed record names, may be invisible that long (404; an app also
	// 401/403) before it counts as missing, and after a machine launch
	// that may have been applied the launch-ID lookup waits Propagation/60
	// (500 ms at the default, flyctl's launchLookupDelay) and the deploy
	// checks for a duplicate once Propagation has passed.
	Propagation time.Duration
	// Public, if set, is the HTTP client with which a deploy checks, at
	// the end of [StepHealthy], that the Livebook answers at its public
	// URL: it GETs [Spec.URL] + [Spec.HealthPath] (through Fly's edge)
	// until the answer is 200, backing off from PollInterval, within
	// [Options.StartDeadline] ([ErrNotReachable] otherwise). Fly's edge
	// routes <app>.fly.dev to a new app some time after its machine
	// passed its health checks, which run on the private network: without
	// this check a deploy is done when the machine is healthy, and the
	// first visit may still fail (and a negative DNS answer be cached).
	// Give it a Timeout; its Transport decides where <app>.fly.dev goes
	// (a simulator's stand-in Livebook, say). nil skips the check.
	Public *http.Client
	// Clock is the current time for events, [Record.Since] and
	// [Launcher.Ready]'s cache; nil is time.Now (a test's clock, say).
	Clock func() time.Time
}

// Launcher runs deploys. It is safe for concurrent use. Close it to stop
// every running deploy.
type Launcher struct {
	client        *flaps.Client
	log           *slog.Logger
	callTimeout   time.Duration
	startDeadline time.Duration
	pollInterval  time.Duration
	propagation   time.Duration
	public        *http.Client
	retry         RetryPolicy
	clock         func() time.Time // stamps events, ages Ready's result
	ready         *readiness
	// keyBase generates a Livebook key base (newKeyBase); tests may set it.
	keyBase func() (string, error)
	orgs    *orgAliases // of client's token: "personal" is one org per token

	// hook, if set (by tests only), sees every event synchronously on the
	// driver goroutine, before the driver makes its next call.
	hook func(Event)

	*drivers // shared with every Launcher As returns
}

// drivers are the deploys a Launcher and the Launchers of its As run.
type drivers struct {
	ctx    context.Context // parent of every driver; cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	deploys map[string]*Deploy // running drivers by launch ID
	ended   endedDeploys       // recently ended deploys by launch ID
}

// New validates opts and returns a Launcher; errors wrap
// [ErrInvalidOptions].
func New(opts Options) (*Launcher, error) {
	if opts.CallTimeout < 0 || opts.StartDeadline < 0 || opts.PollInterval < 0 || opts.Propagation < 0 {
		return nil, fmt.Errorf("%w: durations must not be negative", ErrInvalidOptions)
	}
	if err := opts.Retry.validate(); err != nil {
		return nil, err
	}
	l := &Launcher{
		client:        opts.Client,
		log:           opts.Logger,
		callTimeout:   opts.CallTimeout,
		startDeadline: opts.StartDeadline,
		pollInterval:  opts.PollInterval,
		propagation:   cmp.Or(opts.Propagation, 30*time.Second),
		public:        opts.Public,
		retry:         opts.Retry.withDefaults(),
		clock:         opts.Clock,
		ready:         newReadiness(),
		keyBase:       newKeyBase,
		orgs:          &orgAliases{},
		drivers:       &drivers{deploys: map[string]*Deploy{}, ended: endedDeploys{byID: map[string]endedDeploy{}}},
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.clock == nil {
		l.clock = time.Now
	}
	if l.callTimeout == 0 {
		l.callTimeout = 30 * time.Second
	}
	if l.startDeadline == 0 {
		l.startDeadline = 5 * time.Minute
	}
	if l.pollInterval == 0 {
		l.pollInterval = time.Second
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	return l, nil
}

// As returns a Launcher that makes its calls to Fly with client, another
// Fly token's (a visitor's own, say: see [Organizations] to check it
// first), and shares everything else with l: its options, its deploys
// ([Launcher.Attach] and [Launcher.Resume] find a running deploy by launch
// ID whichever token started it) and its [Launcher.Close]. A deploy keeps
// the client it started or resumed with until it ends, and then drops it:
// the caller that drops the returned Launcher holds the token no longer.
// A nil client returns l.
func (l *Launcher) As(client *flaps.Client) *Launcher {
	if client == nil {
		return l
	}
	as := *l
	as.client, as.orgs, as.ready = client, &orgAliases{}, newReadiness()
	return &as
}

// lookupDelay is the pause before looking for a machine whose launch may
// have been applied.
func (l *Launcher) lookupDelay() time.Duration { return l.propagation / 60 }

// NewClient returns a fly-go Machines API client authenticated with token
// that sends its requests through transport (nil means
// http.DefaultTransport). The client logs nothing: fly-go's debug logger
// would print request bodies, secrets included. It also stops fly-go from
// blindly resending a create that got a 502/503 (see [LostResponseError]);
// prefer it over a *flaps.Client built by hand.
//
// fly-go always addresses https://api.machines.dev (or FLY_FLAPS_BASE_URL,
// which this package never reads or sets); to reach another server, pass a
// transport that rewrites request URLs, such as flysim.Transport.
func NewClient(ctx context.Context, token string, transport http.RoundTripper) (*flaps.Client, error) {
	if token == "" {
		return nil, &SpecError{Field: "token", Reason: "is required"}
	}
	if !wellFormedMacaroons(token) {
		return nil, &SpecError{Field: "token", Reason: "is not a well-formed Fly token"}
	}
	if transport == nil {
		transport = http.DefaultTransport
	}
	c, err := flaps.NewWithOptions(ctx, flaps.NewClientOpts{
		UserAgent: "sealkit-flylaunch",
		Tokens:    tokens.Parse(token),
		Transport: guardTransport{next: transport},
	})
	if err != nil {
		return nil, fmt.Errorf("flylaunch: new client: %w", err)
	}
	return c, nil
}

// Start validates spec, checks that the app name is free (a [*NameError] or
// an error matching [ErrNameTaken] otherwise) and starts a new deploy with a
// fresh launch ID. ctx bounds only this check: the deploy runs on until it
// ends, [Deploy.Cancel] or [Launcher.Close].
func (l *Launcher) Start(ctx context.Context, spec Spec) (*Deploy, error) {
	if l.client == nil {
		return nil, ErrNoClient
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	spec = spec.withDefaults()
	if l.isClosed() {
		return nil, ErrClosed
	}
	d := &driver{l: l, spec: spec, step: StepCreateApp}
	exists, err := d.appExists(ctx)
	if err != nil {
		return nil, err
	}
	if exists {
		return nil, &APIError{Step: StepCreateApp, Op: "check app name " + spec.App, Status: http.StatusOK, kind: ErrNameTaken}
	}
	id, err := newLaunchID()
	if err != nil {
		return nil, err
	}
	rec := Record{LaunchID: id, App: spec.App, Org: spec.Org, Region: spec.Region}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrClosed
	}
	return l.spawn(spec, rec, false), nil
}

// Resume continues the deploy described by rec with spec, which should be
// the Spec the deploy started with: only App, Org and Region are checked
// against rec (after defaults; [ErrRecordMismatch] otherwise), and the
// rest shapes the machine if it is not launched yet.
//
// A record is a claim about the past: Resume checks Fly's current state
// before every action and only moves forward. A [Record.Finished] record
// is only reported on: the deploy ends with the app's URL and machine state
// if its machine still exists, or [ErrGone], and calls nothing but GETs.
// An earlier record continues, but never re-creates: if the app (or the
// machine) it says exists is gone, the deploy ends with [ErrGone]; an
// existing secret of spec.Secrets is never overwritten; a machine carrying
// the launch ID is adopted, never doubled.
//
// If this Launcher runs that deploy, or ended it within the last minute
// with success or [ErrGone] (facts a retry would not change), Resume
// returns that one (see [Launcher.Attach]), so any number of concurrent or
// repeated resumes of one deploy cost the Fly API calls of one. A deploy
// that failed otherwise (no capacity, say) is resumed afresh. spec.Secrets are only needed if rec has not completed
// [StepSecrets]. ctx is not used beyond an early cancellation check: the
// deploy runs on its own.
func (l *Launcher) Resume(ctx context.Context, spec Spec, rec Record) (*Deploy, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if l.client == nil {
		return nil, ErrNoClient
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	spec = spec.withDefaults()
	if err := rec.Validate(); err != nil {
		return nil, err
	}
	if rec.App != spec.App || !l.orgs.same(rec.Org, spec.Org) || rec.Region != spec.Region {
		return nil, fmt.Errorf("%w: record is for %s/%s/%s, spec for %s/%s/%s", ErrRecordMismatch,
			rec.Org, rec.App, rec.Region, spec.Org, spec.App, spec.Region)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrClosed
	}
	if d := l.attachLocked(rec.LaunchID); d != nil {
		return d, nil
	}
	return l.spawn(spec, rec, true), nil
}

// Attach returns the deploy of launchID that this Launcher is running, or
// ended less than a minute ago with success or [ErrGone], without starting
// anything; false if there is none. [Launcher.Resume] would return the same
// deploy, at no cost: callers that meter resumes (by client, say) charge
// only those that Attach does not answer.
func (l *Launcher) Attach(launchID string) (*Deploy, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.attachLocked(launchID)
	return d, d != nil
}

func (l *Launcher) attachLocked(launchID string) *Deploy {
	if d, ok := l.deploys[launchID]; ok {
		return d
	}
	return l.ended.get(launchID, time.Now())
}

// spawn registers and starts a driver. l.mu must be held.
func (l *Launcher) spawn(spec Spec, rec Record, resumed bool) *Deploy {
	ctx, cancel := context.WithCancel(l.ctx)
	if rec.Since.IsZero() {
		rec.Since = stamp(l.clock())
	}
	dep := newDeploy(spec, rec, cancel, l.clock, l.hook)
	l.deploys[rec.LaunchID] = dep
	dr := &driver{l: l, dep: dep, spec: spec, rec: rec, resumed: resumed}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer cancel()
		res, err := dr.run(ctx)
		l.mu.Lock()
		if l.deploys[rec.LaunchID] == dep {
			delete(l.deploys, rec.LaunchID)
			if err == nil || errors.Is(err, ErrGone) {
				l.ended.add(rec.LaunchID, dep, time.Now())
			}
		}
		l.mu.Unlock()
		dep.finish(res, err)
	}()
	return dep
}

// Close cancels every running deploy and waits for their drivers to exit.
// Records handed out stay valid: another Launcher can resume them. Close is
// idempotent and always returns nil.
func (l *Launcher) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.cancel()
	l.wg.Wait()
	return nil
}

func (l *Launcher) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

func newLaunchID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", errors.Join(errors.New("flylaunch: launch id"), err)
	}
	return hex.EncodeToString(b[:]), nil
}
