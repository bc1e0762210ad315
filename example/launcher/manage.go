package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sealkit/sealkit/flylaunch"
	"github.com/sealkit/sealkit/resume"
)

const (
	manageKey     = "manage"            // seal purpose and storage key of manage links
	manageMaxAge  = 30 * 24 * time.Hour // how long a link opens
	viewInterval  = 3 * time.Second     // a client opens manage pages viewBurst at once, then one per viewInterval
	viewBurst     = 20
	manageTimeout = 5 * time.Minute // one Stop, Start or Delete
	// A failed read of Fly is retried while the page is open, doubling
	// from refreshFirst to refreshMax, refreshTries times (about an hour).
	refreshFirst = 2 * time.Second
	refreshMax   = 30 * time.Second
	refreshTries = 120
)

var (
	errNothingToManage = errors.New("this page has no Livebook to manage: open the manage link of a launch")
	errChangeUnderWay  = errors.New("another change to this Livebook is under way: wait for it to end")
	errNotConfirmed    = errors.New("confirm the deletion first") // a delete must name its app
)

// manageState is what a manage link carries, sealed: the launch's identity
// and what Delete needs to prove what the launch created, never the
// password. It is a claim: every action reads Fly before it acts.
type manageState struct {
	flylaunch.Record           // Org only in visitor mode, as in launchState
	Token            string    `json:"token,omitempty"` // visitor mode: the token narrowed to the app until Issued+manageMaxAge
	Issued           time.Time `json:"issued"`
}

func newManageState(rec flylaunch.Record, now time.Time) manageState {
	rec.Org = ""
	return manageState{Record: rec, Issued: now.UTC().Truncate(time.Second)}
}

func (s manageState) record(org string) flylaunch.Record {
	r := s.Record
	r.Org, r.Step = cmp.Or(org, r.Org), flylaunch.StepHealthy
	return r
}

// expires is the last day the link of s opens, as the pages say it.
func (s manageState) expires() string { return s.Issued.Add(manageMaxAge).Format("2 January 2006") }

// manageDays is manageMaxAge in days, as the pages say it.
const manageDays = int(manageMaxAge / (24 * time.Hour))

// manageView is everything the manage page renders, in every snapshot.
type manageView struct {
	State string `json:"state,omitempty"` // running, starting, stopping, stopped, deleting, gone; "" unknown
	App   string `json:"app,omitempty"`
	URL   string `json:"url,omitempty"`
	// Busy says a change is under way: the page offers no action.
	Busy bool `json:"busy,omitempty"`
	// Stale: Fly could not be read, State is the last seen ("": the
	// page keeps its own); the server reads again by itself (refresh).
	Stale   bool   `json:"stale,omitempty"`
	Message string `json:"message,omitempty"`
	Error   string `json:"error,omitempty"`
	// Expires says until when the link works, and to keep it private.
	Expires string `json:"expires,omitempty"`
}

// manageApp is the resume.App behind the manage page. Actions are admitted
// like launches (admit); opening a page reads Fly once, charged to the
// client's view bucket, unless it follows a change under way.
type manageApp struct {
	// launchers is the Launcher for a link's token ("" the launcher's own).
	launchers   func(ctx context.Context, token string) (*flylaunch.Launcher, error)
	org         string
	admit       func(netip.Addr) (refund, release func(), err error)
	views       *resume.RateLimiter             // reads of Fly by opening a page
	livebookURL func(app, flyURL string) string // the link a page shows
	jobs        *jobs
	log         *slog.Logger
	seq         atomic.Uint64 // numbers every view sent, across changes

	mu  sync.Mutex
	ops map[string]*manageOp // changes under way, by launch ID
}

// livebook is the Livebook st names, with the link's token.
func (m *manageApp) livebook(ctx context.Context, st manageState) (*flylaunch.Livebook, error) {
	l, err := m.launchers(ctx, st.Token)
	if err != nil {
		return nil, err
	}
	return l.Livebook(st.record(m.org))
}

// Check implements resume.Checker: what it refuses opens as invalid.
func (m *manageApp) Check(st manageState) error {
	st.Step = flylaunch.StepHealthy
	return checkOrg(st.Record, m.org, st.Token)
}

// Open shows the Livebook the link names, or why the link does not open.
func (m *manageApp) Open(ctx context.Context, c *resume.Conn[manageState], r resume.Result[manageState]) error {
	switch r.Status {
	case resume.StatusResumed:
		return m.open(ctx, c, r.State)
	case resume.StatusExpired:
		return m.show(ctx, c, manageView{Error: fmt.Sprintf("This manage link has expired: a link works for %d days after its launch. Nothing was changed.", manageDays)})
	case resume.StatusFresh:
		return m.show(ctx, c, manageView{Error: "This page manages a Livebook through the link its launch gave you (it ends with # and a long code). Open that link."})
	}
	m.log.Info("manage link rejected", "status", string(r.Status), "err", r.Err, "conn", c.Tag())
	return m.show(ctx, c, manageView{Error: "This manage link is not valid: it was altered, or made by another server. Nothing was changed."})
}

// open follows the change under way on st's Livebook, or reads its state.
func (m *manageApp) open(ctx context.Context, c *resume.Conn[manageState], st manageState) error {
	if op := m.running(st.LaunchID); op != nil {
		m.follow(c, op)
		return nil
	}
	if _, ok := m.views.Reserve(c.ClientAddr()); !ok {
		_ = m.show(ctx, c, m.base(st, manageView{Error: "Too many requests from your address: this page tries again by itself."}))
		return errRateLimited
	}
	v, err := m.read(ctx, st, "")
	if err != nil {
		return err // Check vetted the record
	}
	if ctx.Err() != nil {
		return ctx.Err() // the page is gone: its read proves nothing
	}
	if err := m.show(ctx, c, v); err != nil {
		return err
	}
	if v.Stale {
		m.refresh(c, st, v.State)
	}
	return nil
}

// read renders st's Livebook as Fly reads it; last is kept if Fly cannot.
func (m *manageApp) read(ctx context.Context, st manageState, last string) (manageView, error) {
	lb, err := m.livebook(ctx, st)
	if err != nil {
		return manageView{}, err
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	status, err := lb.Status(sctx)
	return m.viewOf(st, status, err, last), nil
}

// refresh reads st's Livebook again for page c, which shows it stale
// (last: the state seen before), with backoff, until a read gets an
// answer from Fly, which is sent to c; it stops when c ends, after
// refreshTries reads, or when c follows something else (Conn.Go). While a
// change of the Livebook is under way it does not read (the change does).
func (m *manageApp) refresh(c *resume.Conn[manageState], st manageState, last string) {
	c.Go(func(ctx context.Context) {
		for i := range refreshTries {
			select {
			case <-time.After(min(refreshFirst<<min(i, 8), refreshMax)): // doubling, capped
			case <-ctx.Done():
				return
			}
			if m.running(st.LaunchID) != nil {
				continue
			}
			v, err := m.read(ctx, st, last)
			if err != nil || ctx.Err() != nil {
				return
			}
			if !v.Stale {
				// Not ctx: a send cut short would end the connection.
				_ = m.show(context.Background(), c, v)
				return
			}
		}
		v := m.unreachable(st, last)
		v.Message = "Fly.io still cannot be reached: reload this page to try again."
		_ = m.show(context.Background(), c, v)
	})
}

// Action runs "stop", "start" or "delete" in the background and streams
// it to the page; its error text is shown on the page.
func (m *manageApp) Action(ctx context.Context, c *resume.Conn[manageState], name string, data json.RawMessage) error {
	return asSentence(m.act(ctx, c, name, data))
}

func (m *manageApp) act(_ context.Context, c *resume.Conn[manageState], name string, data json.RawMessage) error {
	st, ok := c.State()
	if !ok {
		return errNothingToManage
	}
	busy, ok := actions[name]
	if !ok {
		return fmt.Errorf("unknown action %q", name)
	}
	if name == "delete" && !confirmed(data, st.App) {
		return errNotConfirmed
	}
	op, err := m.begin(st, c.ClientAddr(), m.base(st, manageView{State: busy[0], Busy: true, Message: busy[1]}))
	if err != nil {
		return err
	}
	m.log.Info("manage action", "action", name, "app", st.App, "launch_id", st.LaunchID, "client", c.ClientAddr(), "conn", c.Tag())
	m.follow(c, op) // in place of a refresh: the change reads Fly
	return nil
}

// confirmed: data is {"confirm": app}.
func confirmed(data json.RawMessage, app string) bool {
	var req struct {
		Confirm string `json:"confirm"`
	}
	return json.Unmarshal(data, &req) == nil && req.Confirm == app
}

// begin admits a change of st's Livebook for client (refused while
// another runs) and starts it on the launcher's own context: a closed
// page does not stop it.
func (m *manageApp) begin(st manageState, client netip.Addr, first manageView) (*manageOp, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ops[st.LaunchID] != nil {
		return nil, errChangeUnderWay
	}
	_, release, err := m.admit(client)
	if err != nil {
		return nil, err
	}
	op := &manageOp{first: first, seq: m.seq.Add(1), done: make(chan struct{})}
	m.ops[st.LaunchID] = op
	m.jobs.Go(func() {
		defer release()
		v := m.change(st, first.State)
		m.mu.Lock()
		delete(m.ops, st.LaunchID)
		m.mu.Unlock()
		op.last, op.lastSeq = v, m.seq.Add(1)
		close(op.done)
	})
	return op, nil
}

// change runs the change whose page state is busy and returns the view of
// its outcome.
func (m *manageApp) change(st manageState, busy string) manageView {
	ctx, cancel := context.WithTimeout(m.jobs.ctx, manageTimeout)
	defer cancel()
	lb, err := m.livebook(ctx, st)
	if err != nil { // Check vetted the record: not expected
		m.log.Error("manage link names a launch flylaunch refuses", "app", st.App, "launch_id", st.LaunchID, "err", err)
		return m.base(st, manageView{Error: "This manage link names a Livebook this server cannot act on. Nothing was changed."})
	}
	// What the page shows proves nothing: read Fly's state first.
	before, err := lb.Status(ctx)
	if v, refused := m.refuse(st, busy, before, err); refused {
		return v
	}
	last, _ := pageState(before.State)
	var status flylaunch.LaunchStatus
	switch busy {
	case "stopping":
		status, err = lb.Stop(ctx)
	case "starting":
		status, err = lb.Start(ctx)
	default:
		return m.deleted(st, lb.Delete(ctx), last)
	}
	return m.viewOf(st, status, err, last)
}

// refuse answers, without acting, the change busy names of a Livebook
// whose state before (read with err) does not allow it: gone, or unknown
// (Fly does not answer); a stop of a stopped one or a start of a running
// one just reports its state. refused is false for a change to run.
func (m *manageApp) refuse(st manageState, busy string, before flylaunch.LaunchStatus, err error) (v manageView, refused bool) {
	done := map[string]string{"stopping": "stopped", "starting": "started"}[busy]
	if done == "" {
		done = "deleted"
	}
	v = m.viewOf(st, before, err, "")
	switch {
	case v.State == "gone":
		v.Error = "This Livebook no longer exists, so it cannot be " + done + ". Nothing was changed."
	case v.Stale || err != nil:
		v.Error = "The Livebook was not " + done + ": Fly.io cannot be reached to check its state first. Nothing was changed: try again in a moment."
	case busy == "stopping" && before.State == flylaunch.StateStopped, busy == "starting" && before.State == flylaunch.StateRunning:
	default:
		return manageView{}, false
	}
	return v, true
}

// deleted is the view after Delete ended with err; last is the page state
// before it.
func (m *manageApp) deleted(st manageState, err error, last string) manageView {
	v := m.base(st, manageView{State: "gone", Message: "Deleted: the Livebook's machine, its volume with its notebooks, the app and its addresses are gone."})
	switch {
	case err == nil:
		m.log.Info("launch deleted", "app", st.App, "launch_id", st.LaunchID)
	case errors.Is(err, flylaunch.ErrAppKept):
		m.log.Info("launch deleted, app kept", "app", st.App, "launch_id", st.LaunchID, "reason", err)
		v.Message = "Deleted the Livebook's machine and its volume. The app " + st.App + " and its addresses were kept: " +
			"this launch cannot prove it created the app, or other machines live in it. " +
			"If you no longer need the app, delete it with Fly's own tools (fly apps destroy " + st.App + ")."
	default:
		m.log.Warn("delete failed", "app", st.App, "launch_id", st.LaunchID, "err", err)
		v = m.unreachable(st, last)
		v.Error = "The Livebook may not be deleted completely: Fly.io stopped answering. Once this page shows its state again, delete it again."
	}
	return v
}

// viewOf renders a status read (or changed) with err. Only ErrGone, or a
// read that says so, is gone; any other error keeps last, the page state
// seen before (unreachable). The error goes to the log, not the page.
func (m *manageApp) viewOf(st manageState, status flylaunch.LaunchStatus, err error, last string) manageView {
	v := m.base(st, manageView{})
	switch {
	case errors.Is(err, flylaunch.ErrGone) || err == nil && status.State == flylaunch.StateGone:
		v.State, v.Message = "gone", "This Livebook no longer exists: its machine or its app was deleted."
		return v
	case err == nil:
		v.State, v.Message = pageState(status.State)
		return v
	}
	m.log.Warn("Fly did not read or change the Livebook", "app", st.App, "launch_id", st.LaunchID, "err", err)
	switch status.State {
	case "", flylaunch.StateGone, flylaunch.StateUnknown: // no machine read: nothing known
		return m.unreachable(st, last)
	}
	v.State, v.Message = pageState(status.State)
	switch {
	case errors.Is(err, flylaunch.ErrMachineFailed):
		v.Error = "The change did not complete: the machine failed. Start tries again."
	case errors.Is(err, flylaunch.ErrStartTimeout) && status.State == flylaunch.StateStopping:
		v.Error = "The Livebook is busy (stopping) and did not settle in time: try again in a moment."
	case !errors.Is(err, flylaunch.ErrStartTimeout) && (status.State == flylaunch.StateStarting || status.State == flylaunch.StateStopping):
		// Fly refused the change (412) from a state that is still changing.
		v.Error = "The Livebook is busy (" + string(status.State) + "): try again in a moment."
	case errors.Is(err, flylaunch.ErrStartTimeout):
		v.Error = "The change did not complete: the machine did not start in time. Start tries again."
	default:
		v.Error = "The change did not complete: Fly.io did not answer as expected. Try again in a moment."
	}
	return v
}

// unreachable is the view of st's Livebook while Fly cannot be reached:
// last is the page state seen before ("" if none).
func (m *manageApp) unreachable(st manageState, last string) manageView {
	v := m.base(st, manageView{State: last, Stale: true, Message: "Fly.io cannot be reached right now: this page keeps trying."})
	if last != "" {
		v.Message += " Your Livebook was last seen " + last + "."
	}
	return v
}

// pageStates are the page's word for a launch state and what it means.
var pageStates = map[flylaunch.LaunchState][2]string{
	flylaunch.StateRunning:  {"running", "Your Livebook is running."},
	flylaunch.StateStarting: {"starting", "Your Livebook is starting."},
	flylaunch.StateStopping: {"stopping", "Your Livebook is stopping."},
	flylaunch.StateStopped:  {"stopped", "Stopped: it uses no CPU or memory now. It starts again by itself when you open its URL, or press Start."},
	flylaunch.StateFailed:   {"stopped", "Its machine failed and stopped. Start tries again."},
	flylaunch.StateDeleting: {"deleting", "Your Livebook is being deleted."},
}

func pageState(s flylaunch.LaunchState) (string, string) {
	if p, ok := pageStates[s]; ok {
		return p[0], p[1]
	}
	return "gone", "This Livebook no longer exists."
}

// actions are each action's page state while it runs, and its message.
var actions = map[string][2]string{
	"stop":   {"stopping", "Stopping the machine…"},
	"start":  {"starting", "Starting the machine…"},
	"delete": {"deleting", "Deleting the machine, its volume and, if nothing else lives in it, the app…"},
}

func (m *manageApp) base(st manageState, v manageView) manageView {
	v.App = st.App
	v.URL = m.livebookURL(st.App, "https://"+st.App+".fly.dev")
	v.Expires = "This link works until " + st.expires() + ". Anyone who has it can stop, start or delete this Livebook: keep it private."
	return v
}

func (m *manageApp) show(ctx context.Context, c *resume.Conn[manageState], v manageView) error {
	return c.Snapshot(ctx, m.seq.Add(1), v)
}

func (m *manageApp) running(launchID string) *manageOp {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ops[launchID]
}

// follow streams op's views to c until op ends or c does; a page left
// stale by the change reads again (refresh).
func (m *manageApp) follow(c *resume.Conn[manageState], op *manageOp) {
	c.Go(func(ctx context.Context) {
		select {
		case <-op.done: // only its outcome is left to show
		default:
			if c.Snapshot(ctx, op.seq, op.first) != nil {
				return
			}
			select {
			case <-op.done:
			case <-ctx.Done():
				return
			}
		}
		if c.Snapshot(ctx, op.lastSeq, op.last) == nil && op.last.Stale {
			if st, ok := c.State(); ok {
				m.refresh(c, st, op.last.State)
			}
		}
	})
}

// manageOp is one Stop, Start or Delete under way: its first view, and
// once done is closed its last, which every page following it renders.
type manageOp struct {
	first, last  manageView
	seq, lastSeq uint64
	done         chan struct{}
}
