package flylaunch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// waitSlice bounds one server-side wait for "started", so that a machine
// that failed meanwhile (the wait would only time out) is seen by the Get
// that precedes every wait. The Machines API counts it in its own seconds.
const waitSlice = 10 * time.Second

// waitStarted looks at the machine, then waits server-side for "started",
// in slices, up to the start deadline: a 408 (the slice ran out) means look
// and wait again. The look ends the step at once when Fly reports the
// machine failed, launch_failed, crash-looping or destroyed (judge), and
// starts a machine that was asked to stop or suspend (Fly's proxy stops
// an idle one; a resumed deploy may find it so).
func (d *driver) waitStarted(parent context.Context) error {
	d.deadline = time.Now().Add(d.l.startDeadline)
	op := "wait for machine " + d.rec.MachineID + " to start"
	ctx, cancel := context.WithDeadline(parent, d.deadline)
	defer cancel()
	for round := 1; ; round++ {
		m, err := d.getMachine(ctx)
		if err == nil && d.resumed && finishedBefore(m) {
			d.reported, d.machineState = true, m.State
			return nil // finished before: nothing to start or wait for
		}
		if err == nil {
			if again, err := d.readopt(ctx, m); again || err != nil {
				if err != nil {
					return d.startTimeout(parent, op, err)
				}
				continue
			}
			err = d.judge(op, m)
		}
		if err != nil || m.State == fly.MachineStateStarted {
			return d.startTimeout(parent, op, err)
		}
		if halted(m) {
			if err := d.startMachine(ctx, m.ID); err != nil {
				return d.startTimeout(parent, op, err)
			}
		}
		if err := d.waitOnce(ctx, op); err != nil {
			return d.startTimeout(parent, op, err)
		}
		if round > 1 {
			d.dep.emit(d.step, StatusRunning, fmt.Sprintf("machine %s %s, not started yet", m.ID, m.State), nil)
		}
	}
}

// waitOnce runs one slice of the server-side wait; a 408 is no error.
func (d *driver) waitOnce(ctx context.Context, op string) error {
	slice := min(waitSlice, max(time.Second, time.Until(d.deadline)))
	return d.retry(ctx, op, func(ctx context.Context) error {
		err := d.try(ctx, slice, func(ctx context.Context) error {
			return d.l.client.Wait(ctx, d.spec.App, d.rec.MachineID, flaps.WithWaitStates(fly.MachineStateStarted), flaps.WithWaitTimeout(slice))
		})
		if statusOf(err) == http.StatusRequestTimeout {
			return nil
		}
		return err
	})
}

// waitHealthy polls the machine until all its health checks pass, up to
// the start deadline, starting at PollInterval and backing off to four
// times that, and starts it again if it was stopped meanwhile; then, with
// Options.Public, it waits until the Livebook answers at its public URL
// (waitPublic). First it makes sure the deploy has one machine and one
// volume (dedupe).
func (d *driver) waitHealthy(parent context.Context) error {
	if d.reported {
		return nil
	}
	if d.deadline.IsZero() {
		d.deadline = time.Now().Add(d.l.startDeadline)
	}
	ctx, cancel := context.WithDeadline(parent, d.deadline)
	defer cancel()
	if changed, err := d.dedupe(ctx); err != nil || changed {
		if err == nil {
			err = d.waitStarted(parent)
		}
		if err != nil {
			return d.startTimeout(parent, "keep one machine", err)
		}
	}
	op := "get machine " + d.rec.MachineID
	last := ""
	interval := d.l.pollInterval
	for {
		m, err := d.getMachine(ctx)
		if err == nil {
			if again, err := d.readopt(ctx, m); again || err != nil {
				if err == nil {
					err = d.waitStarted(parent)
				}
				if err != nil {
					return d.startTimeout(parent, op, err)
				}
				continue
			}
			err = d.judge(op, m)
		}
		if err != nil {
			return d.startTimeout(parent, op, err)
		}
		hc := m.AllHealthChecks()
		if hc.Total > 0 && hc.AllPassing() {
			return d.waitPublic(ctx, parent)
		}
		if halted(m) { // Fly's proxy stopped it, idle, while we were away
			if err := d.startMachine(ctx, m.ID); err != nil {
				return d.startTimeout(parent, op, err)
			}
		}
		msg := fmt.Sprintf("machine %s %s, health checks %d/%d passing", m.ID, m.State, hc.Passing, hc.Total)
		if msg != last {
			d.dep.emit(d.step, StatusRunning, msg, nil)
			last = msg
		}
		if time.Now().Add(interval).After(d.deadline) {
			return &APIError{Step: d.step, Op: op, Err: errors.New(msg), kind: ErrStartTimeout}
		}
		if err := sleep(ctx, interval); err != nil {
			return d.startTimeout(parent, op, err)
		}
		// Checks take a grace period and then run every few seconds, so
		// back off (up to 4 intervals) rather than poll at a fixed pace.
		interval = min(interval*3/2, 4*d.l.pollInterval)
	}
}

// judge reads what Fly reports of the deploy's machine m and returns an
// error when it will not become healthy: ErrMachineFailed for failed,
// launch_failed or a crash loop, ErrGone (resumed) or a plain failure for
// a destroyed machine. It also keeps m's region and state.
func (d *driver) judge(op string, m *fly.Machine) error {
	if m.Region != "" {
		d.rec.Region = m.Region
	}
	d.machineState = m.State
	switch {
	case m.State == "failed" || m.State == "launch_failed":
		return d.machineFailed(op, fmt.Errorf("machine %s is %s%s", m.ID, m.State, lastExit(m)))
	case crashLooping(m):
		return d.machineFailed(op, fmt.Errorf("machine %s keeps crashing%s", m.ID, lastExit(m)))
	case !m.IsActive():
		err := fmt.Errorf("machine %s is %s", m.ID, m.State)
		if d.resumed {
			return d.gone(op, err)
		}
		return &APIError{Step: d.step, Op: op, Err: err}
	}
	return nil
}

func (d *driver) machineFailed(op string, err error) error {
	return &APIError{Step: d.step, Op: op, Err: err, kind: ErrMachineFailed}
}

// crashLooping reports a machine whose process keeps exiting: its latest
// exit was not asked for, failed, and was followed by a restart more than
// once (flyctl's isConstantlyRestarting), or it stopped for good after a
// failed exit.
func crashLooping(m *fly.Machine) bool {
	ev := latestExit(m)
	if ev == nil || ev.Request.ExitEvent.RequestedStop || ev.Request.ExitEvent.ExitCode == 0 {
		return false
	}
	exit := ev.Request.ExitEvent
	return exit.Restarting && ev.Request.RestartCount > 1 || !exit.Restarting && m.State == fly.MachineStateStopped
}

// latestExit returns m's most recent exit event, or nil (Fly lists events
// newest first).
func latestExit(m *fly.Machine) *fly.MachineEvent {
	for _, ev := range m.Events {
		if ev != nil && ev.Type == "exit" && ev.Request != nil && ev.Request.ExitEvent != nil {
			return ev
		}
	}
	return nil
}

// lastExit describes m's latest exit for an error message, or "".
func lastExit(m *fly.Machine) string {
	ev := latestExit(m)
	if ev == nil {
		return ""
	}
	return fmt.Sprintf(" (last exit code %d after %d restarts)", ev.Request.ExitEvent.ExitCode, ev.Request.RestartCount)
}

// startTimeout maps the start deadline's expiry (err nil or
// context.DeadlineExceeded while parent is alive) to ErrStartTimeout and
// returns any other err as is.
func (d *driver) startTimeout(parent context.Context, op string, err error) error {
	if err != nil && (parent.Err() != nil || !errors.Is(err, context.DeadlineExceeded)) {
		return err
	}
	if err == nil {
		return nil
	}
	return &APIError{Step: d.step, Op: op, kind: ErrStartTimeout}
}

// waitPublic GETs the health path at the app's public URL with
// Options.Public until it answers 200, up to the start deadline (ctx),
// backing off from PollInterval to four times it: Fly's edge routes to a
// new app a while after its machine passed its checks (which run on the
// private network), answering 404 or 503 meanwhile. Without
// Options.Public it returns at once.
func (d *driver) waitPublic(ctx, parent context.Context) error {
	if d.l.public == nil {
		return nil
	}
	url := d.spec.URL() + d.spec.HealthPath
	interval := d.l.pollInterval
	last := ""
	for {
		status, err := d.probePublic(ctx, url)
		if status == http.StatusOK {
			return nil
		}
		if parent.Err() != nil {
			return parent.Err()
		}
		msg := "waiting for " + d.spec.URL() + " to answer"
		if err == nil {
			msg += fmt.Sprintf(" (HTTP %d)", status)
		}
		if msg != last {
			d.dep.emit(d.step, StatusRunning, msg, nil)
			last = msg
		}
		if time.Now().Add(interval).After(d.deadline) {
			return &APIError{Step: d.step, Op: "get " + url, Status: status, Err: errors.New(msg), kind: ErrNotReachable}
		}
		if err := sleep(ctx, interval); err != nil {
			if parent.Err() != nil {
				return err
			}
			return &APIError{Step: d.step, Op: "get " + url, Status: status, Err: errors.New(msg), kind: ErrNotReachable}
		}
		interval = min(interval*3/2, 4*d.l.pollInterval)
	}
}

// probePublic GETs url once, under the per-call timeout, and returns the
// status (0 with the error when there is no answer).
func (d *driver) probePublic(ctx context.Context, url string) (int, error) {
	cctx, cancel := context.WithTimeout(ctx, d.l.callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := d.l.public.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}
