package flylaunch

import (
	"context"
	"errors"

	fly "github.com/superfly/fly-go"
)

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
	if l.client == nil {
		return nil, ErrNoClient
	}
	return &Livebook{l: l, rec: rec}, nil
}

// Status reads Fly's state of the launch: its app and the oldest machine
// carrying its launch ID. A launch whose app or machines no longer exist
// is [StateGone], not an error; a read that fails returns the error and
// [StateUnknown]. It only reads (a List, and a Get when the
// list misses the recorded machine).
func (b *Livebook) Status(ctx context.Context) (LaunchStatus, error) {
	d := b.l.operation(b.rec, opStatus)
	m, err := d.ownMachine(ctx)
	return d.statusAfter(m, err), err
}

// Stop stops the launch's machine and waits, up to
// [Options.StartDeadline], until it is stopped; it returns the launch's
// status then. A machine already stopped stays so. A launch with no
// machine left ends with [ErrGone]. Fly's proxy starts a stopped Livebook
// again on the next request to its URL.
func (b *Livebook) Stop(ctx context.Context) (LaunchStatus, error) {
	return b.l.turn(ctx, b.rec, opStop, fly.MachineStateStopped)
}

// Start starts the launch's machine and waits, up to
// [Options.StartDeadline], until it is started; it returns the launch's
// status then. A machine already started is left so. A launch with no
// machine left ends with [ErrGone], one whose machine fails with
// [ErrMachineFailed], one that does not start in time with
// [ErrStartTimeout].
func (b *Livebook) Start(ctx context.Context) (LaunchStatus, error) {
	return b.l.turn(ctx, b.rec, opStart, fly.MachineStateStarted)
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

// A livebookOp is a call on an existing launch: a [Livebook] method. It is not a
// [Step]: a driver running one has no step, and its errors none.
type livebookOp string

// The Livebook calls.
const (
	opStatus  livebookOp = "status"
	opStop    livebookOp = "stop"
	opStart   livebookOp = "start"
	opDelete  livebookOp = "delete"
	opAbandon livebookOp = "abandon"
)

// operation is a driver for the call op on an existing launch (not a
// deploy): it has no Deploy and no step.
func (l *Launcher) operation(rec Record, op livebookOp) *driver {
	return &driver{l: l, spec: Spec{App: rec.App, Org: rec.Org, Region: rec.Region}, rec: rec, op: op}
}
