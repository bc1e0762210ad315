package flylaunch

import (
	"context"
	"fmt"
	"time"
)

// driver runs the steps of one deploy. Only its goroutine touches it.
type driver struct {
	l       *Launcher
	dep     *Deploy // nil for the name check in Start and for calls on a launch
	spec    Spec
	rec     Record
	resumed bool // rec came from Resume: check Fly's state before every action

	appID        string     // Fly's ID of the app, as last seen in our org
	appNumID     int64      // and its numeric ID (flaps.App.InternalNumericID)
	step         Step       // current step, for errors and events; "" in an op
	op           livebookOp // the Livebook call this driver serves, "" in a deploy
	deadline     time.Time  // start deadline, set when StepStarted begins
	machineState string     // the machine's state as last read
	// onlyDead: a delete that abandons a failed launch, which must not
	// destroy a machine of the launch that runs or ran (Abandon).
	onlyDead bool
	// reported: the resumed deploy found the launch finished before it
	// (DoneKey), and only reports it.
	reported bool

	// visibleBy is when what this deploy created (or a resumed record
	// names) must be visible: until then 401, 403 and 404 are Fly not
	// having caught up, and are retried.
	visibleBy  time.Time
	launchedAt time.Time // last machine launch attempt
	ambiguous  bool      // a machine launch may have been applied twice
	// volumeAt is the last volume create attempt, and volumeAmbiguous
	// says one may have been applied twice.
	volumeAt        time.Time
	volumeAmbiguous bool
	// freshVolume is the ID of the volume this deploy created itself (the
	// ID came back from its own create), which no machine mounted yet: a
	// launch refused for capacity may delete it and create another.
	freshVolume string
}

// run executes the remaining steps and emits the final event.
func (d *driver) run(ctx context.Context) (Result, error) {
	log := d.l.log.With("launch_id", d.rec.LaunchID, "app", d.rec.App)
	log.Info("flylaunch: deploy running", "spec", d.spec, "resumed", d.resumed, "from_step", string(d.rec.Step))
	if d.resumed && d.rec.Finished() {
		return d.report(ctx, log) // made long ago: what is missing is gone
	}
	if d.resumed {
		// What the record names may have been made a moment ago by a
		// process that crashed, which may also have launched the machine;
		// and another driver of the launch (a second tab's, on another
		// instance) may have launched a twin of the recorded one: a
		// resumed deploy always looks for one (dedupe).
		d.visibleBy = time.Now().Add(d.l.propagation)
		d.ambiguous = true
		d.volumeAmbiguous = d.rec.VolumeID == "" && !d.rec.done(StepVolume)
		d.launchedAt, d.volumeAt = time.Now(), time.Now()
	}
	for i, st := range stepTable() {
		// Creating steps recorded as done are skipped; waiting steps always
		// run, since a machine can stop after it was seen started.
		if d.rec.done(st.Step) && st.Step.index() < StepStarted.index() {
			continue
		}
		d.step = st.Step
		d.dep.emit(st.Step, StatusRunning, describe(st.Step, d.spec), nil)
		if err := st.run(d, ctx); err != nil {
			return Result{}, d.fail(ctx, log, err)
		}
		if d.rec.Step.index() < i {
			// A re-run waiting step keeps the time its successor began.
			d.rec.Step, d.rec.Since = st.Step, stamp(d.dep.clock())
		}
		rec := d.rec
		d.dep.emit(st.Step, StatusCompleted, string(st.Step)+" done", &rec)
		log.Info("flylaunch: step completed", "step", string(st.Step))
	}
	if !d.reported {
		d.markDone(ctx, log)
	}
	rec := d.rec
	url := d.spec.URL()
	d.dep.emit(StepDone, StatusSucceeded, "Livebook is up at "+url, &rec)
	log.Info("flylaunch: deploy succeeded", "url", url, "reported", d.reported)
	return Result{URL: url, Record: rec, MachineState: d.machineState, Reported: d.reported}, nil
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
	d.dep.emit(d.step, status, err.Error(), &rec)
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
		n := len(spec.Secrets)
		if spec.generatesKeyBase() {
			n++
		}
		return fmt.Sprintf("setting %d secret(s)", n)
	case StepIPs:
		return "allocating IPv6 and shared IPv4 addresses"
	case StepVolume:
		return fmt.Sprintf("creating a %d GB volume for notebooks in %s", spec.VolumeSizeGB, spec.Region)
	case StepLaunch:
		return "launching machine in " + spec.Region
	case StepStarted:
		return "waiting for the machine to start"
	case StepHealthy:
		return "waiting for health checks to pass"
	}
	return string(s)
}
