package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/sealkit/sealkit/flylaunch"
	"github.com/sealkit/sealkit/resume"
)

const (
	resumeKey = "launch" // the sessionStorage key and seal purpose of the launch state
	// stateMaxAge bounds the time between steps (each re-seals the state)
	// and how long a page may stay closed.
	stateMaxAge = time.Hour
)

var (
	errUnknownSize      = errors.New("unknown size")
	errAlreadyLaunching = errors.New("this page is already launching a Livebook")
	errForeignOrg       = errors.New("sealed for another Fly organization")
	errTokenRefused     = errors.New("fly.io refused this token: it is incomplete, revoked or expired, or reaches no organization. " +
		"Create one with: fly tokens create org")
	errOrgNotReached     = errors.New("this token cannot deploy to that organization: pick one from the list")
	errLaunchUnavailable = errors.New("launching is unavailable right now: Fly.io cannot be reached. " +
		"Try again in a few minutes. Your Livebooks and their manage links still work")
)

// launchState is what the browser keeps, sealed, while a launch runs: the
// launch's identity and its password, nothing that tells the server what
// to do (image and machine shape come from the server's configuration,
// region and size from the page's catalog).
type launchState struct {
	// Record identifies the launch. Its Org is written only in visitor mode
	// (the visitor's pick); else it is the server's (record).
	flylaunch.Record
	Token    string `json:"token,omitempty"` // the visitor's own Fly token, in visitor mode
	Size     string `json:"size"`            // catalog code
	Password string `json:"password"`        // set as the LIVEBOOK_PASSWORD secret
	// Steps are the completed steps' times, for a page resumed elsewhere.
	Steps []stepTime `json:"steps"`
}

// stepTime is the duration of one completed step.
type stepTime struct {
	Step flylaunch.Step `json:"step"`
	MS   int64          `json:"ms"`
}

// update takes rec's progress, keeping the state's org.
func (s *launchState) update(rec flylaunch.Record) { org := s.Org; s.Record, s.Org = rec, org }

// record is the launch's Record in org, the server's ("": the state's).
func (s launchState) record(org string) flylaunch.Record {
	r := s.Record
	r.Org = cmp.Or(org, r.Org)
	return r
}

// spec is the launch's flylaunch.Spec, secrets included (see record).
func (s launchState) spec(org, image string) flylaunch.Spec {
	sz, _ := findSize(s.Size)
	return flylaunch.Spec{
		App: s.App, Org: cmp.Or(org, s.Org), Region: s.Region, Image: image, Size: sz.Preset, MemoryMB: sz.MemoryMB,
		Secrets: flylaunch.Secrets{"LIVEBOOK_PASSWORD": s.Password},
	}
}

// checkOrg refuses a record of the other mode (visitor mode, org "",
// needs a token; operator mode has none) or naming an org other than the
// server's (an old version's, or forged with a shared key base).
func checkOrg(rec flylaunch.Record, org, token string) error {
	switch {
	case org == "" && token == "", org != "" && token != "":
		return errors.New("sealed by a launcher of another mode")
	case org != "" && rec.Org != "" && rec.Org != org:
		return errForeignOrg
	}
	rec.Org = cmp.Or(org, rec.Org)
	return rec.Validate()
}

// launchApp is the resume.App behind the page. A sealed state that comes
// back is a claim, not a command: Check refuses states this server will
// not act on, and a resume that has to drive Fly costs a launch (admit).
type launchApp struct {
	fly   *fly
	org   string
	admit func(netip.Addr) (refund, release func(), err error)
	ready func(context.Context) bool // false while the Fly API does not answer
	// lookups meters the visitors' "orgs" calls to Fly, by client.
	lookups func(netip.Addr) (cancel func(), ok bool)
	links   interface { // seals manage links (the manage handler)
		Seal(manageState) (string, error)
	}
	jobs *jobs
	log  *slog.Logger
	now  func() time.Time
}

// Check implements resume.Checker: what it refuses opens as invalid.
func (a *launchApp) Check(st launchState) error {
	if _, ok := findRegion(st.Region); !ok {
		return fmt.Errorf("unknown region %q", st.Region)
	}
	if _, ok := findSize(st.Size); !ok {
		return fmt.Errorf("%w %q", errUnknownSize, st.Size)
	}
	return checkOrg(st.Record, a.org, st.Token)
}

// Open re-attaches a page with a sealed launch; any other gets the form.
func (a *launchApp) Open(ctx context.Context, c *resume.Conn[launchState], r resume.Result[launchState]) error {
	switch r.Status {
	case resume.StatusResumed:
		return a.resume(ctx, c, r.State)
	case resume.StatusFresh:
	default:
		a.log.Info("sealed launch rejected", "status", string(r.Status), "err", r.Err, "conn", c.Tag())
	}
	v := view{Phase: phaseIdle, Error: clearedMessages[r.Status]}
	if !a.ready(ctx) {
		v.Unavailable = sentence(errLaunchUnavailable.Error())
	}
	return c.Snapshot(ctx, 0, v)
}

// resume attaches c to the deploy of st: the one this process runs (free),
// or a new driver, admitted like a launch; if refused, the page keeps its
// state and reconnects by itself, with backoff.
func (a *launchApp) resume(ctx context.Context, c *resume.Conn[launchState], st launchState) error {
	rec := st.record(a.org)
	dep, ok := a.fly.launcher.Attach(rec.LaunchID)
	if ok {
		a.log.Info("launch re-attached", "app", rec.App, "launch_id", rec.LaunchID, "conn", c.Tag())
		a.watch(c, st, dep)
		return nil
	}
	refund, release, err := a.admit(c.ClientAddr())
	if err != nil {
		v := a.running(st, flylaunch.StatusRunning)
		v.Step = sentence(err.Error()) + " This page tries again by itself."
		_ = c.Snapshot(ctx, 0, v)
		return err
	}
	l, err := a.fly.as(ctx, st.Token)
	if err == nil {
		dep, err = l.Resume(ctx, st.spec(a.org, a.fly.image), rec)
	}
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
	a.jobs.Go(func() { <-dep.Done(); release() })
	a.log.Info("launch resumed", "app", rec.App, "launch_id", rec.LaunchID, "from_step", string(rec.Step), "conn", c.Tag())
	a.watch(c, st, dep)
	return nil
}

// launchRequest is the data of "launch" (and Token of "orgs").
type launchRequest struct{ App, Region, Size, Token, Org string }

// Action handles "launch" and, in visitor mode, "orgs"; its error is
// shown on the page.
func (a *launchApp) Action(ctx context.Context, c *resume.Conn[launchState], name string, data json.RawMessage) error {
	if name == "orgs" && a.fly.visitor {
		return asSentence(a.orgs(ctx, c, data))
	}
	return asSentence(a.launch(ctx, c, name, data))
}

// orgs lists the organizations the visitor's token reaches on the idle
// view: a call to Fly, metered like a manage page's.
func (a *launchApp) orgs(ctx context.Context, c *resume.Conn[launchState], data json.RawMessage) error {
	var req launchRequest
	if json.Unmarshal(data, &req) != nil {
		return errors.New("malformed request")
	}
	if _, ok := a.lookups(c.ClientAddr()); !ok {
		return errors.New("too many requests from your address: try again in a minute")
	}
	orgs, err := flylaunch.Organizations(ctx, req.Token, a.fly.transport)
	if err != nil {
		return a.tokenError(err)
	}
	v := view{Phase: phaseIdle}
	for _, o := range orgs {
		v.Orgs = append(v.Orgs, viewOrg{Slug: o.Slug, Name: o.Name})
	}
	return c.Snapshot(ctx, 0, v)
}

// tokenError is the page's sentence for a token Fly refused.
func (a *launchApp) tokenError(err error) error {
	switch {
	case errors.Is(err, flylaunch.ErrTokenRefused):
		return errTokenRefused
	case errors.Is(err, flylaunch.ErrOrgNotReached):
		return errOrgNotReached
	}
	a.log.Warn("check the visitor's token", "err", err)
	return errLaunchUnavailable
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
	if !a.ready(ctx) {
		return errLaunchUnavailable
	}
	refund, release, err := a.admit(c.ClientAddr())
	if err != nil {
		return err
	}
	l := a.fly.launcher
	if a.fly.visitor { // nothing is created for a token or org Fly refuses
		if l, err = l.AsToken(ctx, req.Token, req.Org, a.fly.transport); err != nil {
			release()
			refund()
			return a.tokenError(err)
		}
	} else {
		req.Token, req.Org = "", ""
	}
	st := launchState{Record: flylaunch.Record{App: req.App, Region: req.Region, Org: req.Org}, Size: sz.ID, Password: rand.Text(), Token: req.Token} // 130 bits
	dep, err := l.Start(ctx, st.spec(a.org, a.fly.image))
	if err != nil {
		release()
		refund() // only launches that start cost a token
		a.log.Warn("launch refused", "app", req.App, "err", err)
		return friendlyStartError(req.App, err)
	}
	a.jobs.Go(func() { <-dep.Done(); release() })
	st.update(dep.Record())
	// Without the sealed state nobody can ever learn the password.
	if err := c.Store(ctx, st); err != nil {
		dep.Cancel()
		a.jobs.Go(func() {
			<-dep.Done() // Abandon leaves alone a deploy that runs here
			a.destroyLater(dep.Record(), st.Token)
		})
		return fmt.Errorf("could not hand the launch to this page: %w", err)
	}
	a.log.Info("launch started", "app", req.App, "region", req.Region, "size", sz.ID, "client", c.ClientAddr(), "launch_id", st.LaunchID)
	a.watch(c, st, dep)
	return nil
}

func parseLaunch(data []byte) (launchRequest, size, error) {
	var req launchRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return launchRequest{}, size{}, errors.New("malformed launch request")
	}
	var ne *flylaunch.NameError
	if err := flylaunch.ValidateAppName(req.App); errors.As(err, &ne) {
		return launchRequest{}, size{}, fmt.Errorf("invalid app name: it %s", ne.Reason)
	} else if err != nil {
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

// suggestAppName returns a name like "livebook-k3x9q2".
func suggestAppName() string { return "livebook-" + strings.ToLower(rand.Text()[:6]) }

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
	return errLaunchUnavailable // Fly did not answer the name check (the detail is in the log)
}

func (a *launchApp) watch(c *resume.Conn[launchState], st launchState, dep *flylaunch.Deploy) {
	c.Go(func(ctx context.Context) { a.stream(ctx, c, st, dep) })
}

// stream sends the snapshot, then every event; it re-seals the state after
// each completed step and ends with the summary or the failure.
func (a *launchApp) stream(ctx context.Context, c *resume.Conn[launchState], st launchState, dep *flylaunch.Deploy) {
	snap, events := dep.Subscribe(ctx)
	st.update(snap.Record)
	if snap.Final { // ended before this page looked: no manage link
		a.finish(ctx, c, st, dep, false)
		return
	}
	if c.Snapshot(ctx, snap.Seq, a.running(st, snap.Status)) != nil {
		return
	}
	for ev := range events {
		if ev.Status == flylaunch.StatusCompleted && ev.Record != nil {
			// The step took from the previous record's Since to this one's.
			st.Steps = append(st.Steps, stepTime{Step: ev.Record.Step, MS: ev.Record.Since.Sub(st.Since).Milliseconds()})
			st.update(*ev.Record)
			if c.Store(ctx, st) != nil {
				return
			}
		}
		if ev.Status.Final() {
			a.finish(ctx, c, st, dep, true)
			return
		}
		if c.Event(ctx, ev.Seq, a.running(st, ev.Status)) != nil {
			return
		}
	}
}

// finish shows the outcome of an ended deploy and clears the page's state.
// A manage link is given once: to a page that watched the deploy end
// (live), not for a launch finished before it began (Result.Reported).
func (a *launchApp) finish(ctx context.Context, c *resume.Conn[launchState], st launchState, dep *flylaunch.Deploy, live bool) {
	res, err := dep.Wait(ctx)
	seq := dep.Snapshot().Seq
	switch {
	case err == nil:
		v := a.running(st, flylaunch.StatusCompleted)
		v.Phase, v.Progress, v.Step = phaseDone, 100, "Done"
		v.URL = a.fly.livebookURL(st.App, res.URL)
		v.Password = st.Password
		if live && !res.Reported {
			v.Manage, v.ManageUntil = a.manageLink(res.Record, st.Token)
			if v.Manage == "" && st.Token != "" {
				v.ManageNote = "No manage link: your token cannot be narrowed to this Livebook alone. Manage it with Fly's own tools (fly machine stop, start; fly apps destroy " + st.App + ")."
			} else if v.Manage != "" {
				v.ManageNote = fmt.Sprintf("Keep the manage link too: it is valid for %d days, until %s, and anyone who has it can stop, start or delete this Livebook.", manageDays, v.ManageUntil)
			}
		} else {
			v.ManageIssued = true
			v.ManageNote = "This launch finished earlier: its manage link was given once, to the page that watched it finish."
		}
		if c.Snapshot(ctx, seq, v) == nil {
			_ = c.Clear(ctx)
			a.log.Info("launch finished", "app", st.App, "launch_id", st.LaunchID, "machine_state", res.MachineState, "conn", c.Tag())
		}
	case errors.Is(err, flylaunch.ErrCanceled), ctx.Err() != nil:
		// Shutting down: the page resumes on the next instance.
	default:
		a.log.Warn("launch failed", "app", st.App, "launch_id", st.LaunchID, "err", err)
		if c.Snapshot(ctx, seq, view{Phase: phaseFailed, App: st.App, Error: failureMessage(err)}) == nil {
			_ = c.Clear(ctx)
		}
		// Not a healthy launch, nor one someone removed: not ours to judge.
		if rec := dep.Record(); !rec.Finished() && !errors.Is(err, flylaunch.ErrGone) {
			a.destroyLater(rec, st.Token)
		}
	}
}

// manageLink returns the manage link of rec and its last day, "" if none
// can be made. In visitor mode the link carries token narrowed to the app
// (by Fly's numeric ID, not its name) and the link's lifetime.
func (a *launchApp) manageLink(rec flylaunch.Record, token string) (link, until string) {
	st := newManageState(rec, a.now())
	if token != "" {
		if rec.AppNumericID == 0 {
			return "", ""
		}
		scoped, err := flylaunch.AttenuateToApp(token, rec.AppNumericID, st.Issued.Add(manageMaxAge))
		if err != nil {
			a.log.Warn("narrow the visitor's token to the app", "app", rec.App, "err", err)
			return "", ""
		}
		st.Org, st.Token = rec.Org, scoped
	}
	tok, err := a.links.Seal(st)
	if err != nil {
		a.log.Error("seal manage link", "app", rec.App, "err", err)
		return "", ""
	}
	return "/manage#" + tok, st.expires()
}

// destroyLater removes what a failed launch provably created, so the name
// can be used again, unless the launch lives on elsewhere (Abandon).
func (a *launchApp) destroyLater(rec flylaunch.Record, token string) {
	a.jobs.Go(func() {
		ctx, cancel := context.WithTimeout(a.jobs.ctx, 3*time.Minute)
		defer cancel()
		l, err := a.fly.as(ctx, token)
		var lb *flylaunch.Livebook
		if err == nil {
			lb, err = l.Livebook(rec)
		}
		if err == nil {
			err = lb.Abandon(ctx)
		}
		switch {
		case errors.Is(err, flylaunch.ErrInUse):
			a.log.Info("cleanup of failed launch called off: the launch lives on", "app", rec.App, "launch_id", rec.LaunchID, "err", err)
		case err != nil:
			a.log.Warn("cleanup of failed launch", "app", rec.App, "launch_id", rec.LaunchID, "err", err)
		default:
			a.log.Info("cleaned up failed launch", "app", rec.App, "launch_id", rec.LaunchID)
		}
	})
}

// failureMessage explains a failed deploy (flylaunch's errors hold no secret).
func failureMessage(err error) string {
	switch {
	case errors.Is(err, flylaunch.ErrNoCapacity):
		return "The launch failed: Fly.io has no capacity in that region right now. Pick another region and launch again."
	case errors.Is(err, flylaunch.ErrGone):
		return "The Livebook this page was tracking no longer exists: it was deleted. You can launch a new one."
	case errors.Is(err, flylaunch.ErrStartTimeout):
		return "The launch failed: the machine did not become healthy in time. Launch again in a moment."
	case errors.Is(err, flylaunch.ErrNotReachable):
		return "The launch failed: the Livebook started, but Fly.io did not route its address to it in time. Launch again in a moment."
	case errors.Is(err, flylaunch.ErrMachineFailed):
		return "The launch failed: Fly.io could not run the Livebook machine. Launch again, or pick another region."
	}
	return sentence("The launch failed: " + err.Error())
}
