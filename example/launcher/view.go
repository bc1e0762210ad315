package main

import (
	"time"

	"github.com/sealkit/sealkit/flylaunch"
)

// The phases of the page.
const (
	phaseIdle    = "idle"
	phaseRunning = "running"
	phaseDone    = "done"
	phaseFailed  = "failed"
)

// view is everything the page renders, sent whole in every snapshot and
// event so that the page is a function of the latest one.
type view struct {
	Phase    string     `json:"phase"`
	App      string     `json:"app,omitempty"`
	Progress int        `json:"progress"`
	Step     string     `json:"step,omitempty"`
	Steps    []viewStep `json:"steps,omitempty"`
	URL      string     `json:"url,omitempty"`
	Password string     `json:"password,omitempty"` // only in the final view
	// Manage is the manage link (path and sealed fragment) and
	// ManageUntil its last day, only in the final view of a success.
	Manage      string `json:"manage,omitempty"`
	ManageUntil string `json:"manage_until,omitempty"`
	Error       string `json:"error,omitempty"`
}

// viewStep is one line of the step list.
type viewStep struct {
	Title string `json:"title"`
	State string `json:"state"` // pending, running, done or failed
	MS    *int64 `json:"ms,omitempty"`
}

// stepTitles are the steps shown on the page, in order.
var stepTitles = []struct {
	step  flylaunch.Step
	title string
}{
	{flylaunch.StepCreateApp, "Create the app"},
	{flylaunch.StepSecrets, "Store the password as a secret"},
	{flylaunch.StepIPs, "Allocate IP addresses"},
	{flylaunch.StepVolume, "Create a volume for notebooks"},
	{flylaunch.StepLaunch, "Launch the machine"},
	{flylaunch.StepStarted, "Wait for the machine to start"},
	{flylaunch.StepHealthy, "Wait for Livebook to answer"},
}

// tracker follows a deploy's events and renders views of it.
type tracker struct {
	app     string
	percent int
	current flylaunch.Step
	status  flylaunch.Status
	message string
	started map[flylaunch.Step]time.Time
	took    map[flylaunch.Step]int64 // completed steps, milliseconds
	now     func() time.Time
}

// newTracker starts from the step timings the sealed state remembers.
func newTracker(st launchState, now func() time.Time) *tracker {
	t := &tracker{
		app: st.App, started: map[flylaunch.Step]time.Time{}, took: map[flylaunch.Step]int64{}, now: now,
	}
	for _, s := range st.Steps {
		t.took[s.Step] = s.MS
	}
	return t
}

// sync catches up with a deploy's snapshot, after the events of this
// process (if any) were applied: steps the record says are complete are
// done even when their timing is unknown (run by another instance before
// the last re-seal), and the running step's timer starts now if its start
// is unknown.
func (t *tracker) sync(snap flylaunch.Snapshot) {
	t.percent, t.current, t.status, t.message = snap.Percent, snap.Step, snap.Status, snap.Message
	if snap.Record.Step != "" {
		for _, s := range stepTitles {
			if _, ok := t.took[s.step]; !ok {
				t.took[s.step] = unknownTime
			}
			if s.step == snap.Record.Step {
				break
			}
		}
	}
	if snap.Status == flylaunch.StatusRunning || snap.Status == flylaunch.StatusRetrying {
		delete(t.took, snap.Step) // a resumed deploy re-runs its waiting steps
		if _, ok := t.started[snap.Step]; !ok {
			t.started[snap.Step] = t.now() // as good as we know: the page ticks on from here
		}
	}
}

// unknownTime marks a step known to be complete whose duration is not.
const unknownTime = -1

// apply records ev and reports whether it completed a step.
func (t *tracker) apply(ev flylaunch.Event) (completed bool) {
	t.percent, t.current, t.status, t.message = ev.Percent, ev.Step, ev.Status, ev.Message
	switch ev.Status {
	case flylaunch.StatusRunning, flylaunch.StatusRetrying:
		delete(t.took, ev.Step) // a resumed deploy re-runs its waiting steps
		if _, ok := t.started[ev.Step]; !ok {
			t.started[ev.Step] = ev.Time
		}
	case flylaunch.StatusCompleted:
		if at, ok := t.started[ev.Step]; ok {
			t.took[ev.Step] = ev.Time.Sub(at).Milliseconds()
		} else if _, ok := t.took[ev.Step]; !ok {
			t.took[ev.Step] = 0
		}
		return true
	}
	return false
}

// stepTimes returns the completed steps' durations for the sealed state.
func (t *tracker) stepTimes() []stepTime {
	var out []stepTime
	for _, s := range stepTitles {
		if ms, ok := t.took[s.step]; ok && ms != unknownTime {
			out = append(out, stepTime{Step: s.step, MS: ms})
		}
	}
	return out
}

// running renders the progress view.
func (t *tracker) running() view {
	v := view{Phase: phaseRunning, App: t.app, Progress: t.percent}
	for _, s := range stepTitles {
		vs := viewStep{Title: s.title, State: "pending"}
		if ms, ok := t.took[s.step]; ok {
			vs.State = "done"
			if ms != unknownTime {
				vs.MS = &ms
			}
		} else if s.step == t.current {
			vs.State = "running"
			if at, ok := t.started[s.step]; ok {
				ms := max(0, t.now().Sub(at).Milliseconds())
				vs.MS = &ms
			}
			v.Step = s.title + "…"
			if t.status == flylaunch.StatusRetrying {
				v.Step = s.title + ": Fly is slow to answer, retrying…"
			}
		}
		v.Steps = append(v.Steps, vs)
	}
	if v.Step == "" {
		v.Step = "Preparing…"
	}
	return v
}
