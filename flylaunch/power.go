package flylaunch

// Start and stop: bringing a launch's machine to started or stopped
// through Fly's refusals (412) while it is busy, for Livebook.Start and
// Livebook.Stop, and for a deploy that finds its machine stopped.

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
func (l *Launcher) turn(parent context.Context, rec Record, op livebookOp, want string) (LaunchStatus, error) {
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
