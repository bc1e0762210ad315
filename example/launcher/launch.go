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
	"github.com/sealkit/sealkit/seal"
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
type launchApp struct {
	fly     *fly
	org     string
	tickets tickets
	limiter *limiter
	slots   chan struct{} // one per launch started here and still running
	log     *slog.Logger
	now     func() time.Time

	// base is canceled at shutdown; cleanups run under it.
	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // watchers and cleanups

	mu       sync.Mutex
	watching map[*resume.Conn[launchState]]bool // connections watching a deploy
}

// launchRequest is the data of the "launch" action.
type launchRequest struct {
	App    string `json:"app"`
	Region string `json:"region"`
	Size   string `json:"size"`
	Ticket string `json:"ticket"`
}

// Open re-attaches a page that comes back with a sealed launch, and shows
// the form to any other.
func (a *launchApp) Open(ctx context.Context, c *resume.Conn[launchState], r resume.Result[launchState]) error {
	switch r.Status {
	case resume.StatusResumed:
		spec, err := r.State.spec()
		if err == nil {
			var dep *flylaunch.Deploy
			dep, err = a.fly.launcher.Resume(ctx, spec, r.State.Record)
			if err == nil {
				a.log.Info("launch resumed", "app", r.State.Record.App, "launch_id", r.State.Record.LaunchID, "conn", c.Tag())
				a.watch(c, r.State, dep)
				return nil
			}
		}
		if errors.Is(err, flylaunch.ErrClosed) || ctx.Err() != nil {
			// Shutting down: keep the page's state, it resumes elsewhere.
			return err
		}
		// A state this server cannot resume (e.g. sealed by an older
		// version): say so and start over rather than fail the connection.
		a.log.Warn("cannot resume launch", "app", r.State.Record.App, "err", err)
		_ = c.Clear(ctx)
		return c.Snapshot(ctx, 0, view{Phase: phaseFailed, Error: "The launch saved in this browser cannot be resumed: " + err.Error()})
	case resume.StatusFresh:
	default:
		a.log.Info("sealed launch rejected", "status", string(r.Status), "err", r.Err, "conn", c.Tag())
	}
	return c.Snapshot(ctx, 0, view{Phase: phaseIdle})
}

// Action handles "launch". Its error text is shown on the page.
func (a *launchApp) Action(ctx context.Context, c *resume.Conn[launchState], name string, data json.RawMessage) error {
	if name != "launch" {
		return fmt.Errorf("unknown action %q", name)
	}
	req, sz, err := parseLaunch(data)
	if err != nil {
		return err
	}
	if a.isWatching(c) {
		return errAlreadyLaunching
	}
	client, err := a.tickets.client(req.Ticket)
	if err != nil {
		return err
	}
	addr, _ := netip.ParseAddr(client) // clientAddr's, or invalid: then one bucket
	unreserve, ok := a.limiter.reserve(addr)
	if !ok {
		a.log.Warn("launch rate limited", "client", client)
		return errRateLimited
	}
	select {
	case a.slots <- struct{}{}:
	default:
		unreserve()
		return errBusy
	}
	release := func() { <-a.slots }

	password, err := newPassword()
	if err != nil {
		release()
		unreserve()
		return err
	}
	st := launchState{Password: password, Size: sz.ID}
	spec := flylaunch.Spec{
		App: req.App, Org: a.org, Region: req.Region, Size: sz.Preset, MemoryMB: sz.MemoryMB,
		Secrets: flylaunch.Secrets{"LIVEBOOK_PASSWORD": password},
	}
	dep, err := a.fly.launcher.Start(ctx, spec)
	if err != nil {
		release()
		unreserve() // only launches that start cost a token
		a.log.Warn("launch refused", "app", req.App, "err", err)
		return friendlyStartError(req.App, err)
	}
	a.goTracked(func() { <-dep.Done(); release() })
	st.Record = dep.Record()
	// The page must hold the sealed state before anything else: without
	// it nobody can ever learn the password.
	if err := c.Store(ctx, st, seal.MaxAge(stateMaxAge)); err != nil {
		dep.Cancel()
		a.destroyLater(st.Record)
		return fmt.Errorf("could not hand the launch to this page: %w", err)
	}
	a.log.Info("launch started", "app", req.App, "region", req.Region, "size", sz.ID, "client", client, "launch_id", st.Record.LaunchID)
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
	return fmt.Errorf("the launch was refused: %w", err)
}

func (a *launchApp) isWatching(c *resume.Conn[launchState]) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.watching[c]
}
