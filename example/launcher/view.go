package main

import (
	"cmp"
	"slices"
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
	// The page moves the bar from Progress to ProgressTo, where it will
	// be when the running step ends, in about ETAMS milliseconds.
	ProgressTo int        `json:"progress_to,omitempty"`
	ETAMS      int64      `json:"eta_ms,omitempty"`
	Step       string     `json:"step,omitempty"`
	Steps      []viewStep `json:"steps,omitempty"`
	URL        string     `json:"url,omitempty"`
	Password   string     `json:"password,omitempty"` // only in the final view
	// Manage is the manage link and ManageUntil its last day, only in the
	// final view of a success.
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
	// right now: the page disables the form and shows it.
	Unavailable string `json:"unavailable,omitempty"`
	// Orgs, in the idle view of visitor mode, are the organizations the
	// visitor's token reaches, to pick from.
	Orgs []viewOrg `json:"orgs,omitempty"`
}

// viewOrg is an organization the page offers.
type viewOrg struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// clearedMessages are the idle view's error when the page's sealed state
// does not open.
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

// running renders the progress view of st, whose deploy runs the step
// after st.Step since st.Since, from flylaunch's step table and the times
// st kept.
func (a *launchApp) running(st launchState, status flylaunch.Status) view {
	now := a.now()
	elapsed := max(0, now.Sub(cmp.Or(st.Since, now)))
	pace := max(a.fly.pace, 1e-9) // the simulator runs pace times faster than Fly
	at, to, left := flylaunch.Progress(st.Step, time.Duration(float64(elapsed)*pace))
	v := view{Phase: phaseRunning, App: st.App, Progress: int(100 * at), ProgressTo: int(100 * to),
		ETAMS: time.Duration(float64(left) / pace).Milliseconds(), Step: "Preparing…"}
	state := "done" // up to st.Step
	if st.Step == "" {
		state = "running"
	}
	for _, s := range flylaunch.Steps() {
		vs := viewStep{Title: s.Title, State: state}
		switch {
		case state == "done":
			if i := slices.IndexFunc(st.Steps, func(t stepTime) bool { return t.Step == s.Step }); i >= 0 {
				vs.MS = new(st.Steps[i].MS)
			}
		case state == "running":
			vs.MS, state = new(elapsed.Milliseconds()), "pending"
			v.Step = s.Title + "…"
			if status == flylaunch.StatusRetrying {
				v.Step = s.Title + ": Fly is slow to answer, retrying…"
			}
		}
		if s.Step == st.Step {
			state = "running"
		}
		v.Steps = append(v.Steps, vs)
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

// size is a machine size offered on the page.
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

// sentenceError shows an error on the page as a sentence: Go's error
// strings are lowercase fragments, the page's texts are sentences.
type sentenceError struct{ err error }

func (e sentenceError) Error() string { return sentence(e.err.Error()) }

func (e sentenceError) Unwrap() error { return e.err }

func asSentence(err error) error {
	if err == nil {
		return nil
	}
	return sentenceError{err}
}

// sentence capitalizes s and ends it with a period unless it ends a
// sentence already.
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
