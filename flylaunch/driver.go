package flylaunch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// driver runs the steps of one deploy. Only its goroutine touches it.
type driver struct {
	l       *Launcher
	dep     *Deploy // nil for the name check in Start and for Destroy
	spec    Spec
	rec     Record
	resumed bool // rec came from Resume: check Fly's state before every action

	step         Step      // current step, for errors and events
	percent      int       // progress reached before the current step
	deadline     time.Time // start deadline, set when StepStarted begins
	machineState string    // the machine's state as last read
}

// run executes the remaining steps and emits the final event.
func (d *driver) run(ctx context.Context) (Result, error) {
	log := d.l.log.With("launch_id", d.rec.LaunchID, "app", d.rec.App)
	log.Info("flylaunch: deploy running", "spec", d.spec, "resumed", d.resumed, "from_step", string(d.rec.Step))
	if d.resumed && d.rec.Finished() {
		return d.report(ctx, log)
	}
	fns := map[Step]func(context.Context) error{
		StepCreateApp: d.createApp,
		StepSecrets:   d.setSecrets,
		StepIPs:       d.allocateIPs,
		StepLaunch:    d.launchMachine,
		StepStarted:   d.waitStarted,
		StepHealthy:   d.waitHealthy,
	}
	for i, st := range steps() {
		// Creating steps recorded as done are skipped; waiting steps always
		// run, since a machine can stop after it was seen started.
		if d.rec.done(st.step) && st.step.index() < StepStarted.index() {
			d.percent = st.percent
			continue
		}
		d.step = st.step
		d.dep.emit(st.step, StatusRunning, d.percent, describe(st.step, d.spec), nil)
		if err := fns[st.step](ctx); err != nil {
			return Result{}, d.fail(ctx, log, err)
		}
		if d.rec.Step.index() < i {
			d.rec.Step = st.step
		}
		d.percent = st.percent
		rec := d.rec
		d.dep.emit(st.step, StatusCompleted, d.percent, string(st.step)+" done", &rec)
		log.Info("flylaunch: step completed", "step", string(st.step))
	}
	rec := d.rec
	url := d.spec.URL()
	d.dep.emit(StepDone, StatusSucceeded, 100, "Livebook is up at "+url, &rec)
	log.Info("flylaunch: deploy succeeded", "url", url)
	return Result{URL: url, Record: rec, MachineState: d.machineState}, nil
}

// fail turns err into the deploy's final error and emits the final event.
func (d *driver) fail(ctx context.Context, log interface {
	Warn(string, ...any)
}, err error) error {
	status := StatusFailed
	if ctx.Err() != nil {
		status = StatusCanceled
		err = canceledError{cause: context.Cause(ctx)}
	}
	rec := d.rec
	d.dep.emit(d.step, status, d.percent, err.Error(), &rec)
	log.Warn("flylaunch: deploy ended", "step", string(d.step), "status", string(status), "err", err.Error())
	return err
}

// gone is the error that ends a resumed deploy whose app or machine no
// longer exists.
func (d *driver) gone(op string, err error) error {
	return &APIError{Step: d.step, Op: op, Status: statusOf(err), RequestID: requestID(err), Err: err, kind: ErrGone}
}

func describe(s Step, spec Spec) string {
	switch s {
	case StepCreateApp:
		return "creating app " + spec.App + " in " + spec.Org
	case StepSecrets:
		return fmt.Sprintf("setting %d secret(s)", len(spec.Secrets))
	case StepIPs:
		return "allocating IPv6 and shared IPv4 addresses"
	case StepLaunch:
		return "launching machine in " + spec.Region
	case StepStarted:
		return "waiting for the machine to start"
	case StepHealthy:
		return "waiting for health checks to pass"
	}
	return string(s)
}

// try runs one API call under the per-call timeout (plus extra, for calls
// that wait server-side).
func (d *driver) try(ctx context.Context, extra time.Duration, fn func(context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, d.l.callTimeout+extra)
	defer cancel()
	return fn(cctx)
}

// retry runs body until it succeeds, fails permanently or runs out of
// attempts. body must re-check Fly's state before acting, so running it
// again after an ambiguous failure adopts what the failed call created.
// Errors are returned as *APIError, or ctx's error once it is done.
func (d *driver) retry(ctx context.Context, op string, body func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		err := body(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ae *APIError
		if errors.As(err, &ae) {
			return err
		}
		if d.resumed && statusOf(err) == http.StatusNotFound {
			return d.gone(op, err)
		}
		if !retryable(ctx, err) || isNoCapacity(err) || attempt >= d.l.retry.MaxAttempts {
			return newAPIError(d.step, op, attempt, err)
		}
		delay := d.l.retry.Delay(attempt - 1)
		msg := fmt.Sprintf("%s: %s; retry %d of %d in %v", op, failureSummary(err), attempt, d.l.retry.MaxAttempts-1, delay.Round(time.Millisecond))
		if d.dep != nil {
			d.dep.emit(d.step, StatusRetrying, d.percent, msg, nil)
		}
		d.l.log.Debug("flylaunch: retrying", "launch_id", d.rec.LaunchID, "op", op, "attempt", attempt, "status", statusOf(err))
		if err := sleep(ctx, delay); err != nil {
			return err
		}
	}
}

// failureSummary describes a transient failure without Fly's message body.
func failureSummary(err error) string {
	if s := statusOf(err); s != 0 {
		return fmt.Sprintf("HTTP %d %s", s, http.StatusText(s))
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "call timed out"
	}
	return "connection error"
}

func isNoCapacity(err error) bool {
	return errors.Is(newAPIError("", "", 0, err), ErrNoCapacity)
}
