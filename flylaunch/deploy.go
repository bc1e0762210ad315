package flylaunch

import (
	"context"
	"iter"
	"sync"
	"time"
)

// Deploy is a running or finished deploy. Its methods are safe for
// concurrent use by any number of goroutines.
type Deploy struct {
	cancel context.CancelFunc
	clock  func() time.Time
	hook   func(Event)
	url    string

	mu      sync.Mutex
	rec     Record
	events  []Event       // events[i].Seq == i+1
	changed chan struct{} // closed and replaced on every new event
	done    chan struct{} // closed by finish
	res     Result
	err     error
}

func newDeploy(spec Spec, rec Record, cancel context.CancelFunc, clock func() time.Time, hook func(Event)) *Deploy {
	return &Deploy{
		cancel:  cancel,
		clock:   clock,
		hook:    hook,
		url:     spec.URL(),
		rec:     rec,
		changed: make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// LaunchID returns the deploy's launch ID.
func (d *Deploy) LaunchID() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rec.LaunchID
}

// Record returns the latest record. Seal it to resume the deploy later.
func (d *Deploy) Record() Record {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rec
}

// Snapshot returns the state as of the latest event.
func (d *Deploy) Snapshot() Snapshot {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.snapshotLocked()
}

func (d *Deploy) snapshotLocked() Snapshot {
	s := Snapshot{LaunchID: d.rec.LaunchID, Record: d.rec}
	if n := len(d.events); n > 0 {
		ev := d.events[n-1]
		s.Seq, s.Step, s.Status, s.Message, s.Final = ev.Seq, ev.Step, ev.Status, ev.Message, ev.Status.Final()
	}
	return s
}

// Subscribe returns the current snapshot and an iterator over every event
// after it, in order, live. The iterator ends after the final event, when
// ctx is done, or when the loop breaks; it holds no goroutine. Any number of
// subscribers may iterate at once.
func (d *Deploy) Subscribe(ctx context.Context) (Snapshot, iter.Seq[Event]) {
	d.mu.Lock()
	snap := d.snapshotLocked()
	d.mu.Unlock()
	return snap, d.eventsAfter(ctx, snap.Seq)
}

// Events returns an iterator over all events from the first, then live; it
// ends like the one from [Deploy.Subscribe].
func (d *Deploy) Events(ctx context.Context) iter.Seq[Event] { return d.eventsAfter(ctx, 0) }

func (d *Deploy) eventsAfter(ctx context.Context, seq uint64) iter.Seq[Event] {
	return func(yield func(Event) bool) {
		next := seq // index of the next event to deliver
		for {
			d.mu.Lock()
			if next < uint64(len(d.events)) {
				ev := d.events[next]
				d.mu.Unlock()
				next++
				if !yield(ev) {
					return
				}
				continue
			}
			finished := len(d.events) > 0 && d.events[len(d.events)-1].Status.Final()
			changed := d.changed
			d.mu.Unlock()
			if finished {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-changed:
			}
		}
	}
}

// Wait blocks until the deploy ends or ctx is done. It returns the Result
// on success, otherwise the deploy's error (or ctx's, if the deploy is still
// running). Waiting does not affect the deploy.
func (d *Deploy) Wait(ctx context.Context) (Result, error) {
	select {
	case <-d.done:
	default:
		select {
		case <-ctx.Done():
			return Result{}, ctx.Err()
		case <-d.done:
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.res, d.err
}

// Done returns a channel closed when the deploy has ended.
func (d *Deploy) Done() <-chan struct{} { return d.done }

// Cancel stops the deploy; it then ends with an error matching
// [ErrCanceled]. Whatever it created stays: resume it or call
// [Livebook.Delete].
func (d *Deploy) Cancel() { d.cancel() }

// emit appends an event; rec, if non-nil, becomes the deploy's record.
func (d *Deploy) emit(step Step, status Status, msg string, rec *Record) {
	d.mu.Lock()
	ev := Event{
		Seq: uint64(len(d.events)) + 1, Time: d.clock(), Step: step, Status: status,
		Message: msg,
	}
	if rec != nil {
		d.rec = *rec
		cp := *rec
		ev.Record = &cp
	}
	if status == StatusSucceeded {
		ev.URL = d.url
	}
	d.events = append(d.events, ev)
	close(d.changed)
	d.changed = make(chan struct{})
	d.mu.Unlock()
	if d.hook != nil {
		d.hook(ev)
	}
}

// finish records the outcome; the final event was already emitted.
func (d *Deploy) finish(res Result, err error) {
	d.mu.Lock()
	d.res, d.err = res, err
	d.mu.Unlock()
	close(d.done)
}
