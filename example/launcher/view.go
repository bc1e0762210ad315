package main

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sealkit/sealkit/flylaunch"
	"github.com/sealkit/sealkit/resume"
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
	Phase    string `json:"phase"`
	App      string `json:"app,omitempty"`
	Progress int    `json:"progress"`
	// ProgressTo and ETAMS let the page move the bar while a long step
	// runs: Progress is where the bar is now, ProgressTo where it will be
	// when the running step ends, in about ETAMS milliseconds.
	ProgressTo int        `json:"progress_to,omitempty"`
	ETAMS      int64      `json:"eta_ms,omitempty"`
	Step       string     `json:"step,omitempty"`
	Steps      []viewStep `json:"steps,omitempty"`
	URL        string     `json:"url,omitempty"`
	Password   string     `json:"password,omitempty"` // only in the final view
	// Manage is the manage link (path and sealed fragment) and
	// ManageUntil its last day, only in the final view of a success.
	Manage      string `json:"manage,omitempty"`
	ManageUntil string `json:"manage_until,omitempty"`
	// ManageIssued says the launch's manage link was handed out before,
	// to the page that watched it finish: a resumed finished launch (a
	// reload, a copy of its blob) shows the summary without a new one.
	ManageIssued bool `json:"manage_issued,omitempty"`
	// ManageNote, in the final view of a success, says how long the
	// manage link works, or why this page has none.
	ManageNote string `json:"manage_note,omitempty"`
	Error      string `json:"error,omitempty"`
	// Unavailable, in the idle view, says why launching is unavailable
	// right now (the Fly API does not answer): the page disables the
	// form and shows it.
	Unavailable string `json:"unavailable,omitempty"`
}

// clearedMessages say why the launch the browser kept was cleared: the
// idle view's error when the page's sealed state does not open.
var clearedMessages = map[resume.Status]string{
	resume.StatusExpired: "The launch saved in this browser has expired, so it was cleared. You can start a new launch.",
	resume.StatusInvalid: "The launch saved in this browser could not be read (it was altered, or sealed by another server), so it was cleared. You can start a new launch.",
	resume.StatusUnbound: "The launch saved in this browser belongs to another session, so it was cleared. You can start a new launch.",
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
	{flylaunch.StepSecrets, "Store the password and session key as secrets"},
	{flylaunch.StepIPs, "Allocate IP addresses"},
	{flylaunch.StepVolume, "Create a volume for notebooks"},
	{flylaunch.StepLaunch, "Launch the machine"},
	{flylaunch.StepStarted, "Wait for the machine to start"},
	{flylaunch.StepHealthy, "Wait for Livebook to answer"},
}

// expectedDuration is how long each step takes on Fly, about: measured
// against flysim's realistic profile at time scale 1 (BENCHMARKS.md: one
// launch, 52 s), the short steps being one or two API calls each. The
// progress bar is weighted by them, so that it tracks time, not steps:
// nearly all of a launch is waiting for the machine to start and to pass
// its health checks.
var expectedDuration = map[flylaunch.Step]time.Duration{
	flylaunch.StepCreateApp: 4 * time.Second, // the create, then the app propagating
	flylaunch.StepSecrets:   500 * time.Millisecond,
	flylaunch.StepIPs:       time.Second,
	flylaunch.StepVolume:    time.Second,
	flylaunch.StepLaunch:    time.Second,
	flylaunch.StepStarted:   20 * time.Second,
	flylaunch.StepHealthy:   27 * time.Second,
}

// tracker follows a deploy's events and renders views of it.
type tracker struct {
	app     string
	pace    float64 // how many times faster than Fly the deploy runs (simulated)
	current flylaunch.Step
	status  flylaunch.Status
	message string
	started map[flylaunch.Step]time.Time
	took    map[flylaunch.Step]int64 // completed steps, milliseconds
	now     func() time.Time
	// sealedStep and sealedAt: the step that began at sealedAt, as the
	// sealed state remembers it (the one after its last completed step).
	sealedStep flylaunch.Step
	sealedAt   time.Time
}

// newTracker starts from the step timings the sealed state remembers:
// the completed steps' durations, and when the next step began. pace
// scales the expected durations (the simulator's time scale, else 1).
func newTracker(st launchState, now func() time.Time, pace float64) *tracker {
	t := &tracker{
		app: st.App, pace: max(pace, 1e-9), started: map[flylaunch.Step]time.Time{}, took: map[flylaunch.Step]int64{}, now: now,
	}
	for _, s := range st.Steps {
		t.took[s.Step] = s.MS
	}
	if st.StepStartedAt > 0 {
		t.sealedStep, t.sealedAt = nextStep(st.Step), time.UnixMilli(st.StepStartedAt)
	}
	return t
}

// nextStep is the step shown after s ("" for none, before the first).
func nextStep(s flylaunch.Step) flylaunch.Step {
	if s == "" {
		return stepTitles[0].step
	}
	for i, st := range stepTitles[:len(stepTitles)-1] {
		if st.step == s {
			return stepTitles[i+1].step
		}
	}
	return ""
}

// sync catches up with a deploy's snapshot, after the events of this
// process (if any) were applied: steps the record says are complete are
// done even when their timing is unknown (run by another instance before
// the last re-seal), and the running step's timer starts now if its start
// is unknown.
func (t *tracker) sync(snap flylaunch.Snapshot) {
	t.current, t.status, t.message = snap.Step, snap.Status, snap.Message
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
			t.started[snap.Step] = t.beganAt(snap.Step, t.now())
		}
	}
}

// beganAt is when step began: seen at seen, unless the sealed state knows
// it began earlier (in a process whose history this one does not have).
func (t *tracker) beganAt(step flylaunch.Step, seen time.Time) time.Time {
	if step == t.sealedStep && t.sealedAt.Before(seen) {
		return t.sealedAt
	}
	return seen
}

// unknownTime marks a step known to be complete whose duration is not.
const unknownTime = -1

// apply records ev and reports whether it completed a step.
func (t *tracker) apply(ev flylaunch.Event) (completed bool) {
	t.current, t.status, t.message = ev.Step, ev.Status, ev.Message
	switch ev.Status {
	case flylaunch.StatusRunning, flylaunch.StatusRetrying:
		delete(t.took, ev.Step) // a resumed deploy re-runs its waiting steps
		if _, ok := t.started[ev.Step]; !ok {
			t.started[ev.Step] = t.beganAt(ev.Step, ev.Time)
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

// progress weighs the steps by their expected durations: the completed
// ones count whole, the running one by its elapsed share (at most 95% of
// it, however long it takes). It returns the percent now, the percent
// when the running step ends, and the expected time left until then.
func (t *tracker) progress() (now, next int, eta time.Duration) {
	var total, done, upTo time.Duration
	for _, s := range stepTitles {
		w := time.Duration(float64(expectedDuration[s.step]) / t.pace)
		total += w
		if _, ok := t.took[s.step]; ok {
			done += w
			continue
		}
		if s.step != t.current {
			continue
		}
		upTo = done + w
		if at, ok := t.started[s.step]; ok {
			elapsed := max(0, t.now().Sub(at))
			done += min(elapsed, w*95/100)
			eta = max(0, w-elapsed)
		}
	}
	upTo = max(upTo, done)
	return int(100 * done / total), int(100 * upTo / total), eta
}

// running renders the progress view.
func (t *tracker) running() view {
	now, next, eta := t.progress()
	v := view{Phase: phaseRunning, App: t.app, Progress: now, ProgressTo: next, ETAMS: eta.Milliseconds()}
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

// region is a Fly.io region offered on the page.
type region struct {
	Code, Name string
	Default    bool
}

// regions are the regions the page offers; the server accepts only these.
var regions = []region{
	{Code: "ams", Name: "Amsterdam, Netherlands"},
	{Code: "cdg", Name: "Paris, France"},
	{Code: "fra", Name: "Frankfurt, Germany"},
	{Code: "iad", Name: "Ashburn, Virginia (US)", Default: true},
	{Code: "lhr", Name: "London, United Kingdom"},
	{Code: "nrt", Name: "Tokyo, Japan"},
	{Code: "ord", Name: "Chicago, Illinois (US)"},
	{Code: "sin", Name: "Singapore"},
	{Code: "sjc", Name: "San Jose, California (US)"},
	{Code: "syd", Name: "Sydney, Australia"},
}

// size is a machine size offered on the page: a fly-go guest preset and
// its memory.
type size struct {
	ID, Title, CPU, Memory string
	Preset                 string
	MemoryMB               int
	Default                bool
}

// sizes are the machine sizes the page offers; the server accepts only these.
var sizes = []size{
	{ID: "small", Title: "Small", CPU: "1 shared CPU", Memory: "1 GB memory", Preset: "shared-cpu-1x", MemoryMB: 1024, Default: true},
	{ID: "medium", Title: "Medium", CPU: "2 shared CPUs", Memory: "2 GB memory", Preset: "shared-cpu-2x", MemoryMB: 2048},
	{ID: "large", Title: "Large", CPU: "2 dedicated CPUs", Memory: "4 GB memory", Preset: "performance-2x", MemoryMB: 4096},
}

func findRegion(code string) (region, bool) {
	for _, r := range regions {
		if r.Code == code {
			return r, true
		}
	}
	return region{}, false
}

func findSize(id string) (size, bool) {
	for _, s := range sizes {
		if s.ID == id {
			return s, true
		}
	}
	return size{}, false
}

// sentenceError shows an error on the page as a sentence. Go's error
// strings are lowercase fragments, the page's own texts are sentences:
// the errors an action returns reach the page through this.
type sentenceError struct{ err error }

func (e sentenceError) Error() string { return sentence(e.err.Error()) }

func (e sentenceError) Unwrap() error { return e.err }

// asSentence wraps a non-nil err in sentenceError.
func asSentence(err error) error {
	if err == nil {
		return nil
	}
	return sentenceError{err}
}

// sentence capitalizes the first letter of s and ends it with a period
// unless it ends a sentence already.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}
