package flylaunch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// halted reports a machine that stopped or suspended because it was asked
// to (by a user, or by Fly's proxy when idle): starting it again is safe.
func halted(m *fly.Machine) bool {
	return (m.State == fly.MachineStateStopped || m.State == fly.MachineStateSuspended) && !crashLooping(m)
}

// startMachine asks Fly to start machine id, which a deploy found
// stopped. Fly's 412 (the machine is no longer stopped: the proxy or a
// user started it, or it is still stopping) is no error: the deploy's
// wait that follows sees where the machine went, and starts it again if
// it is stopped by then.
func (d *driver) startMachine(ctx context.Context, id string) error {
	err := d.power(ctx, "start", id)
	if statusOf(err) == http.StatusPreconditionFailed {
		return nil
	}
	return err
}

// power sends verb ("start" or "stop") for machine id, retried as call
// retries. A 412 comes back as the error: see refusedFrom.
func (d *driver) power(ctx context.Context, verb, id string) error {
	return d.call(ctx, verb+" machine "+id, func(ctx context.Context) error {
		if verb == "start" {
			_, err := d.l.client.Start(ctx, d.spec.App, id, "")
			return err
		}
		return d.l.client.Stop(ctx, d.spec.App, fly.StopMachineInput{ID: id}, "")
	})
}

// refusal is Fly's 412 to a start or stop: "unable to start machine from
// current state: '<state>'".
var refusal = regexp.MustCompile(`from current state: '([a-z_]+)'`)

// refusedFrom returns the state a 412 says the machine was in, or "".
func refusedFrom(err error) string {
	if m := refusal.FindStringSubmatch(err.Error()); m != nil {
		return m[1]
	}
	return ""
}

// busy reports the states a machine leaves on its own, soon, and from
// which Fly refuses start and stop (412): a launch or start under way,
// an update, a stop or suspend under way.
func busy(state string) bool {
	switch state {
	case "created", "starting", "replacing", "stopping", "suspending", fly.MachineStateDestroying:
		return true
	}
	return false
}

// reached reports whether a machine in state is where want (started or
// stopped) asks: stopped also takes suspended, and a machine that failed
// is not running either, so a stop has nothing left to do.
func reached(state, want string) bool {
	if want == fly.MachineStateStarted {
		return state == fly.MachineStateStarted
	}
	switch state {
	case fly.MachineStateStopped, fly.MachineStateSuspended, "failed", "launch_failed":
		return true
	}
	return false
}

// heading reports a busy state that ends in want by itself: booting for
// started, stopping or suspending for stopped.
func heading(state, want string) bool {
	if want == fly.MachineStateStarted {
		return state == "created" || state == "starting" || state == "replacing"
	}
	return state == "stopping" || state == "suspending"
}

// LaunchState says where a launch's Livebook is, as [Livebook.Status]
// reads it from Fly.
type LaunchState string

// The states of a launch.
const (
	// StateRunning: the machine is started.
	StateRunning LaunchState = "running"
	// StateStarting: the machine is booting (created, starting,
	// replacing).
	StateStarting LaunchState = "starting"
	// StateStopping: the machine is stopping or suspending.
	StateStopping LaunchState = "stopping"
	// StateStopped: the machine is stopped or suspended, by a user or by
	// Fly's proxy when idle; the proxy starts it on the next request.
	StateStopped LaunchState = "stopped"
	// StateFailed: the machine failed, or stopped after crashing.
	StateFailed LaunchState = "failed"
	// StateDeleting: the machine is being destroyed.
	StateDeleting LaunchState = "deleting"
	// StateGone: the app, or every machine of the launch, no longer
	// exists.
	StateGone LaunchState = "gone"
	// StateUnknown: Fly could not be read (the call's error says why).
	// Unknown is not gone: the Livebook is where it was last seen.
	StateUnknown LaunchState = "unknown"
)

// LaunchStatus is what Fly says about a launch now.
type LaunchStatus struct {
	// State sums up the machine's state.
	State LaunchState `json:"state"`
	// MachineID is the launch's machine, "" when gone.
	MachineID string `json:"machine_id,omitempty"`
	// MachineState is Fly's own word for the machine's state.
	MachineState string `json:"machine_state,omitempty"`
	// URL is the app's URL, https://<app>.fly.dev.
	URL string `json:"url"`
}

// stateOf sums up m's state.
func stateOf(m *fly.Machine) LaunchState {
	switch m.State {
	case fly.MachineStateStarted:
		return StateRunning
	case fly.MachineStateStopped, fly.MachineStateSuspended:
		if crashLooping(m) {
			return StateFailed
		}
		return StateStopped
	case "stopping", "suspending":
		return StateStopping
	case "failed", "launch_failed":
		return StateFailed
	case fly.MachineStateDestroying:
		return StateDeleting
	case fly.MachineStateDestroyed:
		return StateGone
	}
	return StateStarting
}

// Livebook is the Livebook of one launch at Fly, as a [Record] describes
// it: what Status, Stop, Start and Delete act on, long after the deploy
// ended (from a manage page, say). Get one from [Launcher.Livebook]. Like
// a resumed deploy it treats the record as a claim: every call reads
// Fly's state before it acts, and acts only on what carries the launch's
// ID. Its methods are safe for concurrent use and may be repeated.
type Livebook struct {
	l   *Launcher
	rec Record
}

// Livebook returns the Livebook of the launch rec describes, or the error
// [Record.Validate] finds in rec.
func (l *Launcher) Livebook(rec Record) (*Livebook, error) {
	if err := rec.Validate(); err != nil {
		return nil, err
	}
	return &Livebook{l: l, rec: rec}, nil
}

// Status reads Fly's state of the launch: its app and the oldest machine
// carrying its launch ID. A launch whose app or machines no longer exist
// is [StateGone], not an error; a read that fails returns the error and
// [StateUnknown]. It only reads (a List, and a Get when the
// list misses the recorded machine).
func (b *Livebook) Status(ctx context.Context) (LaunchStatus, error) {
	d := b.l.operation(b.rec, "status")
	m, err := d.ownMachine(ctx)
	return d.statusAfter(m, err), err
}

// Stop stops the launch's machine and waits, up to
// [Options.StartDeadline], until it is stopped; it returns the launch's
// status then. A machine already stopped stays so. A launch with no
// machine left ends with [ErrGone]. Fly's proxy starts a stopped Livebook
// again on the next request to its URL.
func (b *Livebook) Stop(ctx context.Context) (LaunchStatus, error) {
	return b.l.turn(ctx, b.rec, "stop", fly.MachineStateStopped)
}

// Start starts the launch's machine and waits, up to
// [Options.StartDeadline], until it is started; it returns the launch's
// status then. A machine already started is left so. A launch with no
// machine left ends with [ErrGone], one whose machine fails with
// [ErrMachineFailed], one that does not start in time with
// [ErrStartTimeout].
func (b *Livebook) Start(ctx context.Context) (LaunchStatus, error) {
	return b.l.turn(ctx, b.rec, "start", fly.MachineStateStarted)
}

// settledStates are the states a busy machine settles in that a wait can
// name (the Machines API's wait takes started, stopped, suspended and
// destroyed).
var settledStates = []string{fly.MachineStateStarted, fly.MachineStateStopped, fly.MachineStateSuspended, fly.MachineStateDestroyed}

// maxRefusals bounds the 412s a turn takes that name a state neither busy
// nor the one wanted: Fly disagreeing with what it just reported.
const maxRefusals = 3

// turn brings the launch's machine to want (started or stopped), all
// within the start deadline. Fly refuses start and stop (412) while the
// machine is busy (booting, replacing, stopping), so turn first waits for
// a busy machine to settle, unless it is heading for want by itself, and
// acts only on a settled machine that is not there yet. A 412 naming want
// (or, for a stop, a machine already down) means it is there; one naming
// a busy state means it became busy meanwhile: look, settle and try again.
func (l *Launcher) turn(parent context.Context, rec Record, op Step, want string) (LaunchStatus, error) {
	d := l.operation(rec, op)
	m, err := d.ownMachine(parent)
	if err == nil && m == nil {
		err = d.gone("find the launch's machine", errors.New("no machine carries launch "+rec.LaunchID))
	}
	if err != nil {
		return d.statusAfter(m, err), err
	}
	d.rec.MachineID = m.ID
	ctx, cancel := context.WithTimeout(parent, l.startDeadline)
	defer cancel()
	m, err = d.bring(parent, ctx, m, want)
	return d.statusAfter(m, err), err
}

// bring is turn's loop, from m as last read; ctx carries the deadline.
func (d *driver) bring(parent, ctx context.Context, m *fly.Machine, want string) (*fly.Machine, error) {
	verb := "start"
	if want == fly.MachineStateStopped {
		verb = "stop"
	}
	op := verb + " machine " + m.ID
	for refusals := 0; ; {
		switch {
		case !m.IsActive():
			return m, d.gone(op, fmt.Errorf("machine %s is %s", m.ID, m.State))
		case reached(m.State, want):
			return m, nil
		case heading(m.State, want):
			return d.await(parent, ctx, want)
		case busy(m.State):
			if err := d.waitSlice(ctx, op, m.InstanceID, settledStates...); err != nil {
				return m, d.expired(parent, op, err)
			}
		default:
			err := d.power(ctx, verb, m.ID)
			if err == nil {
				return d.await(parent, ctx, want)
			}
			if statusOf(err) != http.StatusPreconditionFailed {
				return m, d.expired(parent, op, err)
			}
			st := refusedFrom(err)
			switch {
			case reached(st, want):
				return d.await(parent, ctx, want)
			case !busy(st):
				if refusals++; refusals >= maxRefusals {
					return m, err
				}
			}
		}
		next, err := d.getMachine(ctx)
		if err != nil {
			return m, d.expired(parent, op, err)
		}
		m = next
	}
}

// ownMachine returns the launch's active machine (the oldest carrying its
// launch ID), or nil when the app or the machine is gone.
func (d *driver) ownMachine(ctx context.Context) (*fly.Machine, error) {
	ours, _, err := d.machinesByOwner(ctx)
	if err != nil || len(ours) == 0 {
		return nil, err
	}
	return ours[0], nil
}

// statusAfter renders m, last read before err, as the launch's status:
// gone only when Fly said so (err nil or matching ErrGone), unknown when
// a read failed before anything was seen.
func (d *driver) statusAfter(m *fly.Machine, err error) LaunchStatus {
	if m == nil && err != nil && !errors.Is(err, ErrGone) {
		return LaunchStatus{State: StateUnknown, URL: d.spec.URL()}
	}
	return d.status(m)
}

// status renders m (nil: gone) as the launch's status.
func (d *driver) status(m *fly.Machine) LaunchStatus {
	st := LaunchStatus{State: StateGone, URL: d.spec.URL()}
	if m != nil {
		st.State, st.MachineID, st.MachineState = stateOf(m), m.ID, m.State
	}
	return st
}

// await waits until the launch's machine is in state want (stopped also
// accepts suspended, or a machine that failed), looking at it before every
// server-side wait slice, until ctx's deadline. A machine that fails
// while it should start, or is destroyed, ends the wait at once.
func (d *driver) await(parent, ctx context.Context, want string) (*fly.Machine, error) {
	op := "wait for machine " + d.rec.MachineID + " to be " + want
	for {
		m, err := d.getMachine(ctx)
		if err == nil && !m.IsActive() {
			return m, d.gone(op, fmt.Errorf("machine %s is %s", m.ID, m.State))
		}
		switch {
		case err != nil:
			return m, d.expired(parent, op, err)
		case want == fly.MachineStateStarted && m.State == want:
			return m, nil
		case want == fly.MachineStateStopped && reached(m.State, want):
			return m, nil
		case want == fly.MachineStateStarted && stateOf(m) == StateFailed:
			return m, d.machineFailed(op, fmt.Errorf("machine %s is %s%s", m.ID, m.State, lastExit(m)))
		}
		states := []string{want}
		if want == fly.MachineStateStopped {
			states = append(states, fly.MachineStateSuspended)
		}
		if err := d.waitSlice(ctx, op, m.InstanceID, states...); err != nil {
			return m, d.expired(parent, op, err)
		}
	}
}

// waitSlice runs one slice of the server-side wait for one of states of
// the machine's instance (Fly answers 400 to a wait for stopped without
// it); a 408 is no error.
func (d *driver) waitSlice(ctx context.Context, op, instance string, states ...string) error {
	return d.retry(ctx, op, func(ctx context.Context) error {
		err := d.try(ctx, waitSlice, func(ctx context.Context) error {
			return d.l.client.Wait(ctx, d.spec.App, d.rec.MachineID, flaps.WithWaitStates(states...), flaps.WithWaitVersion(instance), flaps.WithWaitTimeout(waitSlice))
		})
		if statusOf(err) == http.StatusRequestTimeout {
			return nil
		}
		return err
	})
}

// expired maps the start deadline running out (while parent is alive) to
// ErrStartTimeout.
func (d *driver) expired(parent context.Context, op string, err error) error {
	if parent.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return &APIError{Step: d.step, Op: op, kind: ErrStartTimeout}
	}
	return err
}
