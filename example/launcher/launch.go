package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/sealkit/sealkit/flylaunch"
	"github.com/sealkit/sealkit/resume"
)

// errUnknownSize reports a size the page does not offer.
var errUnknownSize = errors.New("unknown size")

// errBusy reports that the instance already runs its maximum of launches.
var errBusy = errors.New("the launcher is busy with other launches: try again in a minute")

// errAlreadyLaunching reports a second launch from a page that runs one.
var errAlreadyLaunching = errors.New("this page is already launching a Livebook")

// stateMaxAge is how long a sealed launch state stays valid. Every
// completed step re-seals it, so this bounds the time between steps and
// how long a page may stay closed.
const stateMaxAge = time.Hour

// launchApp is the resume.App behind the page: it starts launches on the
// "launch" action and re-attaches every (re)connecting page to its deploy.
// A sealed state that comes back is a claim, not a command: Check refuses
// states this server will not act on, and a resume that has to drive Fly
// costs what a launch costs (admit).
type launchApp struct {
	fly     *fly
	org     string
	limiter *limiter
	// ready probes the Fly API (cached): while it does not answer, the
	// page says launching is unavailable and launches are refused.
	ready *readiness
	slots chan struct{} // one per deploy driven here and still running
	log   *slog.Logger
	now   func() time.Time

	// links seals the manage links of finished launches.
	links *resume.Handler[manageState]

	// base is canceled at shutdown; cleanups and manage actions run under
	// it.
	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // watchers and cleanups
}

// launchRequest is the data of the "launch" action.
type launchRequest struct {
	App    string `json:"app"`
	Region string `json:"region"`
	Size   string `json:"size"`
}

// Check implements resume.Checker: a sealed state naming another org, or a
// region or size this server does not offer, opens as invalid (and the page
// clears it).
func (a *launchApp) Check(st launchState) error { return st.check(a.org) }

// Open re-attaches a page that comes back with a sealed launch, and shows
// the form to any other.
func (a *launchApp) Open(ctx context.Context, c *resume.Conn[launchState], r resume.Result[launchState]) error {
	switch r.Status {
	case resume.StatusResumed:
		return a.resume(ctx, c, r.State)
	case resume.StatusFresh:
	default:
		a.log.Info("sealed launch rejected", "status", string(r.Status), "err", r.Err, "conn", c.Tag())
	}
	v := view{Phase: phaseIdle, Error: clearedMessages[r.Status]}
	if !a.ready.ready(ctx) {
		v.Unavailable = unavailableMessage
	}
	return c.Snapshot(ctx, 0, v)
}

// resume attaches c to the deploy of st: the one this process runs (free),
// or a new driver, which is admitted like a launch. A refused admission
// keeps the page's state and ends the connection: the page reconnects by
// itself, with backoff, and tries again.
func (a *launchApp) resume(ctx context.Context, c *resume.Conn[launchState], st launchState) error {
	rec := st.record(a.org)
	if dep, ok := a.fly.launcher.Attach(rec.LaunchID); ok {
		a.log.Info("launch re-attached", "app", rec.App, "launch_id", rec.LaunchID, "conn", c.Tag())
		a.watch(c, st, dep)
		return nil
	}
	refund, release, err := a.admit(c.ClientAddr())
	if err != nil {
		v := newTracker(st, a.now, a.fly.pace).running()
		v.Step = sentence(err.Error()) + " This page tries again by itself."
		_ = c.Snapshot(ctx, 0, v)
		return err
	}
	dep, err := a.fly.launcher.Resume(ctx, st.spec(a.org, a.fly.image), rec)
	if err != nil {
		release()
		refund()
		if errors.Is(err, flylaunch.ErrClosed) || ctx.Err() != nil {
			return err // shutting down: the page keeps its state, it resumes elsewhere
		}
		a.log.Warn("cannot resume launch", "app", rec.App, "err", err)
		_ = c.Clear(ctx)
		return c.Snapshot(ctx, 0, view{Phase: phaseFailed, Error: "The launch saved in this browser cannot be resumed: " + err.Error()})
	}
	a.goTracked(func() { <-dep.Done(); release() })
	a.log.Info("launch resumed", "app", rec.App, "launch_id", rec.LaunchID, "from_step", string(rec.Step), "conn", c.Tag())
	a.watch(c, st, dep)
	return nil
}

// admit charges a deploy that will drive Fly (a launch, or a resume nobody
// here runs) to the client: a token of its rate limit, and one of this
// instance's slots. refund gives the token back, for a deploy refused
// before it started (a taken name: only launches that really start cost a
// token); release frees the slot once the deploy has ended.
func (a *launchApp) admit(client netip.Addr) (refund, release func(), err error) {
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

// Action handles "launch". Its error text is shown on the page, as a
// sentence.
func (a *launchApp) Action(ctx context.Context, c *resume.Conn[launchState], name string, data json.RawMessage) error {
	return asSentence(a.launch(ctx, c, name, data))
}

func (a *launchApp) launch(ctx context.Context, c *resume.Conn[launchState], name string, data json.RawMessage) error {
	if name != "launch" {
		return fmt.Errorf("unknown action %q", name)
	}
	req, sz, err := parseLaunch(data)
	if err != nil {
		return err
	}
	if _, ok := c.State(); ok { // the page holds a launch until it ends
		return errAlreadyLaunching
	}
	if !a.ready.ready(ctx) {
		return errLaunchUnavailable
	}
	refund, release, err := a.admit(c.ClientAddr())
	if err != nil {
		return err
	}
	password, err := newPassword()
	if err != nil {
		release()
		refund()
		return err
	}
	spec := flylaunch.Spec{
		App: req.App, Org: a.org, Region: req.Region, Image: a.fly.image, Size: sz.Preset, MemoryMB: sz.MemoryMB,
		Secrets: flylaunch.Secrets{"LIVEBOOK_PASSWORD": password},
	}
	dep, err := a.fly.launcher.Start(ctx, spec)
	if err != nil {
		release()
		refund() // only launches that start cost a token
		a.log.Warn("launch refused", "app", req.App, "err", err)
		return friendlyStartError(req.App, err)
	}
	a.goTracked(func() { <-dep.Done(); release() })
	st := newLaunchState(dep.Record(), sz, password)
	st.StepStartedAt = a.now().UnixMilli()
	// The page must hold the sealed state before anything else: without
	// it nobody can ever learn the password.
	if err := c.Store(ctx, st); err != nil {
		dep.Cancel()
		a.goTracked(func() {
			<-dep.Done() // Abandon leaves alone a deploy that runs here
			a.destroyLater(dep.Record())
		})
		return fmt.Errorf("could not hand the launch to this page: %w", err)
	}
	a.log.Info("launch started", "app", req.App, "region", req.Region, "size", sz.ID, "client", c.ClientAddr(), "launch_id", st.LaunchID)
	a.watch(c, st, dep)
	return nil
}

// parseLaunch decodes and checks the data of a "launch" action.
func parseLaunch(data []byte) (launchRequest, size, error) {
	var req launchRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return launchRequest{}, size{}, errors.New("malformed launch request")
	}
	if err := validateAppName(req.App); err != nil {
		return launchRequest{}, size{}, err
	}
	if _, ok := findRegion(req.Region); !ok {
		return launchRequest{}, size{}, fmt.Errorf("unknown region %q", req.Region)
	}
	sz, ok := findSize(req.Size)
	if !ok {
		return launchRequest{}, size{}, fmt.Errorf("%w %q", errUnknownSize, req.Size)
	}
	return req, sz, nil
}

// friendlyStartError explains why Fly refused a launch.
func friendlyStartError(app string, err error) error {
	switch {
	case errors.Is(err, flylaunch.ErrNameTaken):
		return fmt.Errorf("the name %q is taken: pick another one", app)
	case errors.Is(err, flylaunch.ErrNoCapacity):
		return errors.New("no capacity in that region on Fly.io right now: pick another region")
	case errors.Is(err, flylaunch.ErrInvalidSpec):
		return fmt.Errorf("invalid launch: %w", err)
	}
	// Fly did not answer the name check (the detail is in the log).
	return errLaunchUnavailable
}
