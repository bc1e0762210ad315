package flylaunch

import "time"

// Status is the state an [Event] reports for its step.
type Status string

// Event statuses.
const (
	// StatusRunning: the step has begun or made progress.
	StatusRunning Status = "running"
	// StatusRetrying: a call failed transiently and will be retried.
	StatusRetrying Status = "retrying"
	// StatusCompleted: the step finished; the event carries the new Record.
	StatusCompleted Status = "completed"
	// StatusSucceeded: the whole deploy finished (step [StepDone]).
	StatusSucceeded Status = "succeeded"
	// StatusFailed: the deploy stopped on an error (final).
	StatusFailed Status = "failed"
	// StatusCanceled: the deploy was cancelled or its Launcher closed (final).
	StatusCanceled Status = "canceled"
)

// Final reports whether s ends a deploy.
func (s Status) Final() bool {
	return s == StatusSucceeded || s == StatusFailed || s == StatusCanceled
}

// Event is one progress report of a deploy. Events of a deploy have
// consecutive sequence numbers starting at 1. Messages never contain secret
// values.
type Event struct {
	// Seq is the event's sequence number, 1 for the first.
	Seq uint64 `json:"seq"`
	// Time is when the event happened.
	Time time.Time `json:"time"`
	// Step is the step the event is about.
	Step Step `json:"step"`
	// Status is what happened.
	Status Status `json:"status"`
	// Message is a human-readable description.
	Message string `json:"message,omitempty"`
	// Record is the updated record on StatusCompleted, StatusSucceeded and
	// the final events; nil otherwise. Re-seal it to resume from here.
	Record *Record `json:"record,omitempty"`
	// URL is the app URL on StatusSucceeded.
	URL string `json:"url,omitempty"`
}

// Snapshot is the state of a deploy as of its latest event.
type Snapshot struct {
	// LaunchID identifies the deploy.
	LaunchID string `json:"launch_id"`
	// Seq is the sequence number of the latest event, 0 if none yet.
	Seq uint64 `json:"seq"`
	// Step is the step of the latest event.
	Step Step `json:"step,omitempty"`
	// Status is the status of the latest event.
	Status Status `json:"status,omitempty"`
	// Message is the message of the latest event.
	Message string `json:"message,omitempty"`
	// Record is the latest record.
	Record Record `json:"record"`
	// Final reports whether the deploy has ended.
	Final bool `json:"final"`
}

// Result is what a successful deploy returns.
type Result struct {
	// URL is the app URL, https://<app>.fly.dev.
	URL string `json:"url"`
	// Record is the final record.
	Record Record `json:"record"`
	// MachineState is the machine's state as Fly reported it last, e.g.
	// "started" (or "stopped" for a finished launch's machine that Fly's
	// proxy stopped while idle).
	MachineState string `json:"machine_state,omitempty"`
	// Reported is true when the launch had finished before this deploy
	// began (a [Record.Finished] record, or a machine already carrying
	// [DoneKey]): the deploy only read Fly and reported it. Things handed
	// out once per launch (a manage link, say) are not handed out again
	// for a reported launch.
	Reported bool `json:"reported,omitempty"`
}
