package flylaunch

import (
	"context"
	"fmt"
	"net/http"

	fly "github.com/superfly/fly-go"
)

// Destroy removes what the deploy described by rec provably created: every
// machine whose metadata carries its launch ID (a machine ID in rec is not
// proof; Fly's metadata is), then the app, but only if rec proves this
// launch created it ([Record.AppCreated]) and no other machine lives in
// it. Otherwise it leaves the app and returns an error matching
// [ErrAppKept] that says why. A deploy of rec running in this Launcher is
// cancelled first, and its own latest record is used. Things already gone
// are not errors, and an app owned by another org is left alone, so
// Destroy may be repeated. Destroy only acts when asked: failed deploys
// keep their resources so that they can be resumed.
func (l *Launcher) Destroy(ctx context.Context, rec Record) error {
	if err := rec.Validate(); err != nil {
		return err
	}
	rec, err := l.stopDeploy(ctx, rec)
	if err != nil {
		return err
	}
	d := &driver{l: l, spec: Spec{App: rec.App, Org: rec.Org, Region: rec.Region}, rec: rec, step: "destroy"}
	ours, others, err := d.destroyOurs(ctx)
	if err != nil || ours == nil && others == nil {
		return err // or the app is gone, or not ours to look into
	}
	if err := d.keepApp(others); err != nil {
		return err
	}
	// The machine list lags behind writes: a machine made a moment ago may
	// be missing from it. Look again once the propagation bound has passed,
	// and keep the app if anything else shows up.
	if err := sleep(ctx, l.propagation); err != nil {
		return err
	}
	more, others, err := d.destroyOurs(ctx)
	if err != nil {
		return err
	}
	if err := d.keepApp(others); err != nil {
		return err
	}
	ours = append(ours, more...)
	if err := d.deleteApp(ctx); err != nil {
		return err
	}
	l.log.Info("flylaunch: destroyed", "launch_id", rec.LaunchID, "app", rec.App, "machines", len(ours))
	return nil
}

// destroyOurs destroys the machines carrying the launch ID and returns
// their IDs and those of the others (both nil if the app is not there or
// not ours to look into).
func (d *driver) destroyOurs(ctx context.Context) (ours, others []string, err error) {
	ours, others, err = d.machinesByOwner(ctx)
	for _, id := range ours {
		if err == nil {
			err = d.destroyMachine(ctx, id)
		}
	}
	return ours, others, err
}

// keepApp returns why the app must stay, or nil if Destroy may delete it.
func (d *driver) keepApp(others []string) error {
	switch {
	case !d.rec.AppCreated:
		return fmt.Errorf("%w: %s was not created by launch %s", ErrAppKept, d.rec.App, d.rec.LaunchID)
	case len(others) > 0:
		return fmt.Errorf("%w: %s still holds %d machine(s) that launch %s did not create", ErrAppKept, d.rec.App, len(others), d.rec.LaunchID)
	}
	return nil
}

// stopDeploy cancels the deploy of rec if this Launcher runs it and
// returns its latest record, which this process knows first-hand.
func (l *Launcher) stopDeploy(ctx context.Context, rec Record) (Record, error) {
	l.mu.Lock()
	dep := l.deploys[rec.LaunchID]
	l.mu.Unlock()
	if dep == nil {
		return rec, nil
	}
	dep.Cancel()
	select {
	case <-dep.Done():
	case <-ctx.Done():
		return rec, ctx.Err()
	}
	if own := dep.Record(); own.App == rec.App {
		return own, nil
	}
	return rec, nil
}

// machinesByOwner lists the app's machines and splits their IDs into those
// carrying the launch ID and the others. Both are nil when the app does
// not exist or belongs to an org the token cannot see. The machine list
// may lag a fresh launch, so a recorded machine missing from it is read
// directly.
func (d *driver) machinesByOwner(ctx context.Context) (ours, others []string, err error) {
	var all []*fly.Machine
	err = d.retry(ctx, "list machines", func(ctx context.Context) error {
		return d.try(ctx, 0, func(ctx context.Context) (err error) {
			all, err = d.l.client.List(ctx, d.spec.App, "")
			return err
		})
	})
	switch statusOf(err) {
	case http.StatusNotFound, http.StatusUnauthorized, http.StatusForbidden:
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	ours, others = []string{}, []string{}
	seen := map[string]bool{}
	for _, m := range all {
		if m == nil || !m.IsActive() {
			continue
		}
		seen[m.ID] = true
		if m.GetMetadataByKey(MetadataKey) == d.rec.LaunchID {
			ours = append(ours, m.ID)
		} else {
			others = append(others, m.ID)
		}
	}
	if id := d.rec.MachineID; id != "" && !seen[id] {
		m, err := d.getMachine(ctx)
		if err != nil && statusOf(err) != http.StatusNotFound {
			return nil, nil, err
		}
		if err == nil && m.IsActive() && m.GetMetadataByKey(MetadataKey) == d.rec.LaunchID {
			ours = append(ours, id)
		}
	}
	return ours, others, nil
}

// deleteApp deletes the app if it is in the deploy's org.
func (d *driver) deleteApp(ctx context.Context) error {
	var st appState
	err := d.retry(ctx, "check app "+d.spec.App, func(ctx context.Context) (err error) {
		st, err = d.lookupApp(ctx, false)
		return err
	})
	if err != nil || st != appOurs {
		return err
	}
	return d.retry(ctx, "delete app "+d.spec.App, func(ctx context.Context) error {
		err := d.try(ctx, 0, func(ctx context.Context) error { return d.l.client.DeleteApp(ctx, d.spec.App) })
		if statusOf(err) == http.StatusNotFound {
			return nil
		}
		return err
	})
}
