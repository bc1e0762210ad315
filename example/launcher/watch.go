package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sealkit/sealkit/flylaunch"
	"github.com/sealkit/sealkit/resume"
)

// watch streams dep to the page on c until the deploy ends or c does.
func (a *launchApp) watch(c *resume.Conn[launchState], st launchState, dep *flylaunch.Deploy) {
	a.goTracked(func() {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-c.Done():
			case <-ctx.Done():
			}
			cancel()
		}()
		a.stream(ctx, c, st, dep)
	})
}

// stream sends the snapshot, then every event; it re-seals the state after
// each completed step and ends with the summary or the failure.
func (a *launchApp) stream(ctx context.Context, c *resume.Conn[launchState], st launchState, dep *flylaunch.Deploy) {
	snap, events := dep.Subscribe(ctx)
	t := newTracker(st, a.now, a.fly.pace)
	if snap.Seq > 0 {
		// Replay this process's history of the deploy for the timings.
		for ev := range dep.Events(ctx) {
			t.apply(ev)
			if ev.Seq >= snap.Seq {
				break
			}
		}
	}
	t.sync(snap)
	if snap.Final { // ended before this page looked: no manage link
		a.finish(ctx, c, st, t, dep, false)
		return
	}
	if c.Snapshot(ctx, snap.Seq, t.running()) != nil {
		return
	}
	for ev := range events {
		if t.apply(ev) && ev.Record != nil {
			st.update(*ev.Record)
			st.Steps = t.stepTimes()
			st.StepStartedAt = ev.Time.UnixMilli() // the next step begins now
			if c.Store(ctx, st) != nil {
				return
			}
		}
		if ev.Status.Final() {
			a.finish(ctx, c, st, t, dep, true)
			return
		}
		if c.Event(ctx, ev.Seq, t.running()) != nil {
			return
		}
	}
}

// finish shows the outcome of an ended deploy and clears the page's state.
// A manage link is sealed once per launch: only for a page that watched
// (live) the deploy drive the launch to its end, never for a launch Fly
// says had finished before the deploy began (Result.Reported), nor for a
// deploy that had ended before the page attached (a copy of the blob
// handed back, say).
func (a *launchApp) finish(ctx context.Context, c *resume.Conn[launchState], st launchState, t *tracker, dep *flylaunch.Deploy, live bool) {
	res, err := dep.Wait(ctx)
	seq := dep.Snapshot().Seq
	switch {
	case err == nil:
		v := t.running()
		v.Phase, v.Progress, v.Step = phaseDone, 100, "Done"
		v.URL = a.fly.livebookURL(st.App, res.URL)
		v.Password = st.Password
		if live && !res.Reported {
			v.Manage, v.ManageUntil = a.manageLink(res.Record)
			if v.Manage != "" {
				v.ManageNote = fmt.Sprintf("Keep the manage link too: it is valid for %d days, until %s, and anyone who has it can stop, start or delete this Livebook.", manageDays, v.ManageUntil)
			}
		} else {
			v.ManageIssued = true
			v.ManageNote = "This launch finished earlier: its manage link was given once, to the page that watched it finish."
		}
		if c.Snapshot(ctx, seq, v) == nil {
			_ = c.Clear(ctx)
			a.log.Info("launch finished", "app", st.App, "launch_id", st.LaunchID, "machine_state", res.MachineState, "conn", c.Tag())
		}
	case errors.Is(err, flylaunch.ErrCanceled), ctx.Err() != nil:
		// This instance is shutting down: the page keeps its state and
		// resumes on the next instance it reaches.
	default:
		a.log.Warn("launch failed", "app", st.App, "launch_id", st.LaunchID, "err", err)
		v := view{Phase: phaseFailed, App: st.App, Error: failureMessage(err)}
		if c.Snapshot(ctx, seq, v) == nil {
			_ = c.Clear(ctx)
		}
		// A launch that had reached healthy is never cleaned up, nor one
		// whose app or machine someone removed: the world changed, and
		// what is left of it is not ours to judge.
		if rec := dep.Record(); !rec.Finished() && !errors.Is(err, flylaunch.ErrGone) {
			a.destroyLater(rec)
		}
	}
}

// manageLink returns the manage link of a launch that ended well with
// rec, and its last day; "" if it cannot be sealed (the summary then
// offers none).
func (a *launchApp) manageLink(rec flylaunch.Record) (link, until string) {
	st := newManageState(rec, a.now())
	tok, err := a.links.Seal(st)
	if err != nil {
		a.log.Error("seal manage link", "app", rec.App, "err", err)
		return "", ""
	}
	return "/manage#" + tok, st.expires().Format("2 January 2006")
}

// destroyLater removes what a failed launch provably created, so the name
// can be used again: flylaunch's Livebook.Abandon, which calls the
// clean-up off while the launch lives anywhere (another tab's deploy, on
// this instance or another, may have made it healthy).
func (a *launchApp) destroyLater(rec flylaunch.Record) {
	a.goTracked(func() {
		ctx, cancel := context.WithTimeout(a.base, 3*time.Minute)
		defer cancel()
		lb, err := a.fly.launcher.Livebook(rec)
		if err == nil {
			err = lb.Abandon(ctx)
		}
		if errors.Is(err, flylaunch.ErrInUse) {
			a.log.Info("cleanup of failed launch called off: the launch lives on", "app", rec.App, "launch_id", rec.LaunchID, "err", err)
			return
		}
		if err != nil {
			a.log.Warn("cleanup of failed launch", "app", rec.App, "launch_id", rec.LaunchID, "err", err)
			return
		}
		a.log.Info("cleaned up failed launch", "app", rec.App, "launch_id", rec.LaunchID)
	})
}

func (a *launchApp) goTracked(fn func()) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		fn()
	}()
}

// wait cancels the cleanups and blocks until every watcher and cleanup has
// returned; call it after the resume handler and the launcher have shut
// down.
func (a *launchApp) wait() {
	a.cancel()
	a.wg.Wait()
}

// failureMessage explains a failed deploy on the page; flylaunch's errors
// carry no secrets.
func failureMessage(err error) string {
	switch {
	case errors.Is(err, flylaunch.ErrNoCapacity):
		return "The launch failed: Fly.io has no capacity in that region right now. Pick another region and launch again."
	case errors.Is(err, flylaunch.ErrGone):
		return "The Livebook this page was tracking no longer exists: it was deleted. You can launch a new one."
	case errors.Is(err, flylaunch.ErrStartTimeout):
		return "The launch failed: the machine did not become healthy in time. Launch again in a moment."
	case errors.Is(err, flylaunch.ErrNotReachable):
		return "The launch failed: the Livebook started, but Fly.io did not route its address to it in time. Launch again in a moment."
	case errors.Is(err, flylaunch.ErrMachineFailed):
		return "The launch failed: Fly.io could not run the Livebook machine. Launch again, or pick another region."
	}
	return sentence("The launch failed: " + err.Error())
}
