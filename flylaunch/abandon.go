package flylaunch

import (
	"context"
	"fmt"
	"slices"

	fly "github.com/superfly/fly-go"
)

// Abandon removes what a failed launch created, as [Livebook.Delete]
// does, but only once it has proven, from Fly, that the launch is dead
// everywhere: a launch is one thing in Fly, however many processes drive
// it (two browser tabs holding one record, on two instances of a web app,
// each resume a deploy). It refuses with an error matching [ErrInUse],
// destroying nothing, when
//
//   - this Launcher runs a deploy of the launch;
//   - a machine of the launch runs, ran (stopped by a user or by Fly's
//     proxy), or carries [DoneKey]: the launch succeeded somewhere;
//   - what Fly holds of the launch (its machines and their states, its
//     volumes, its app's addresses) changes while Abandon watches it for
//     the propagation bound: another process is driving it.
//
// Machines that failed, crash-looped or never got past being created are
// the launch's failure, and go; after the watch, Delete's own rules apply
// (its second look refuses a machine that started meanwhile). Call it
// after a deploy fails for good; it takes at least two propagation bounds.
func (b *Livebook) Abandon(ctx context.Context) error {
	if b.l.running(b.rec.LaunchID) {
		return fmt.Errorf("%w: a deploy of launch %s runs in this process", ErrInUse, b.rec.LaunchID)
	}
	d := b.l.operation(b.rec, opAbandon)
	before, err := d.footprint(ctx)
	if err != nil || before.absent {
		return err
	}
	if err := sleep(ctx, b.l.propagation); err != nil {
		return err
	}
	after, err := d.footprint(ctx)
	if err != nil || after.absent {
		return err
	}
	if after.progressed(before) {
		return fmt.Errorf("%w: launch %s changed in Fly while the clean-up watched it: another process is driving it", ErrInUse, b.rec.LaunchID)
	}
	if b.l.running(b.rec.LaunchID) {
		return fmt.Errorf("%w: a deploy of launch %s runs in this process", ErrInUse, b.rec.LaunchID)
	}
	d.onlyDead = true
	return d.delete(ctx)
}

// running reports whether this Launcher runs a deploy of launchID.
func (l *Launcher) running(launchID string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.deploys[launchID] != nil
}

// footprint is what Fly holds of a launch, as Abandon compares it.
type footprint struct {
	absent   bool                   // no app of the launch's, nothing to clean
	machines map[string]LaunchState // the launch's machines: ID → state
	volumes  []string               // IDs of other volumes of the launch's name
	ips      int                    // the app's addresses
}

// progressed reports whether f, read after earlier, shows a launch
// moving forward: a machine, volume or address that was not there, or a
// machine that changed state other than by failing or going away (a
// failed machine that Fly destroys is no one's progress).
func (f footprint) progressed(earlier footprint) bool {
	if f.ips > earlier.ips || slices.ContainsFunc(f.volumes, func(v string) bool { return !slices.Contains(earlier.volumes, v) }) {
		return true
	}
	for id, m := range f.machines {
		was, ok := earlier.machines[id]
		if !ok || was != m && !ended(m) {
			return true
		}
	}
	return false
}

// ended reports a machine state that moves no launch forward.
func ended(s LaunchState) bool { return s == StateFailed || s == StateDeleting || s == StateGone }

// footprint reads what Fly holds of the launch, and refuses (ErrInUse)
// when a machine of it runs or ran.
func (d *driver) footprint(ctx context.Context) (footprint, error) {
	if own, err := d.findOwnApp(ctx); err != nil || !own {
		return footprint{absent: true}, err
	}
	mine, _, err := d.machinesByOwner(ctx)
	if err != nil {
		return footprint{}, err
	}
	if err := d.refuseLive(mine); err != nil {
		return footprint{}, err
	}
	f := footprint{machines: map[string]LaunchState{}}
	for _, m := range mine {
		f.machines[m.ID] = stateOf(m)
	}
	var vs []fly.Volume
	if err := d.retry(ctx, "list volumes", func(ctx context.Context) (err error) {
		vs, err = d.listVolumes(ctx)
		return err
	}); err != nil {
		return footprint{}, err
	}
	known := map[string]bool{d.rec.VolumeID: true}
	for _, m := range mine {
		known[mountedVolume(m)] = true
	}
	for _, v := range vs {
		if !known[v.ID] { // the launch's own volume may show up late: lists lag
			f.volumes = append(f.volumes, v.ID)
		}
	}
	err = d.call(ctx, "list addresses", func(ctx context.Context) error {
		res, err := d.l.client.GetIPAssignments(ctx, d.spec.App)
		if err == nil && res != nil {
			f.ips = len(res.IPs)
		}
		return err
	})
	return f, err
}

// refuseLive returns an error matching ErrInUse if one of the launch's
// machines runs, ran or finished the launch: only a failed launch's
// machines (failed, crash-looping, or never started) may be destroyed by
// Abandon.
func (d *driver) refuseLive(mine []*fly.Machine) error {
	for _, m := range mine {
		switch stateOf(m) {
		case StateRunning, StateStopping, StateStopped:
			return fmt.Errorf("%w: machine %s of launch %s is %s", ErrInUse, m.ID, d.rec.LaunchID, m.State)
		}
		if finishedBefore(m) {
			return fmt.Errorf("%w: launch %s finished on machine %s", ErrInUse, d.rec.LaunchID, m.ID)
		}
	}
	return nil
}
