package flylaunch

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	fly "github.com/superfly/fly-go"
)

// Delete removes what the launch provably created, in the app the launch
// made and no other (a record names it by Fly's ID, [Record.AppID]: if
// the launch's app was deleted and the name taken again, Delete touches
// nothing and returns an error matching [ErrGone]): every
// machine whose metadata carries its launch ID (a machine ID in rec is not
// proof; Fly's metadata is), its volume (the one rec names and those its
// machines mount, unless a machine that is not the launch's holds one),
// then the app, but only if rec proves this launch created it
// ([Record.AppCreated]) and no other machine lives in it; the app's IP
// addresses go with it. Otherwise it leaves the app, and with it the
// addresses (they are the app's, not the launch's: Fly does not say which
// launch allocated one, and other machines in the app are reached through
// them), and returns an error matching [ErrAppKept] that says why. A
// deploy of the launch running in this Launcher is cancelled first, and
// its own latest record is used. Things already gone are not errors, and an app
// owned by another org is left alone, so Delete may be repeated. Delete
// only acts when asked: failed deploys keep their resources so that they
// can be resumed.
func (b *Livebook) Delete(ctx context.Context) error {
	rec, err := b.l.stopDeploy(ctx, b.rec)
	if err != nil {
		return err
	}
	return b.l.operation(rec, opDelete).delete(ctx)
}

// delete runs Delete (or, with d.onlyDead, Abandon) on d's record.
func (d *driver) delete(ctx context.Context) error {
	l, rec := d.l, d.rec
	if own, err := d.findOwnApp(ctx); err != nil || !own {
		return err // gone already, or the name is another app's now
	}
	ours, others, err := d.deleteOurs(ctx)
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
	more, others, err := d.deleteOurs(ctx)
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
	l.log.Info("flylaunch: deleted", "launch_id", rec.LaunchID, "app", rec.App, "machines", len(ours))
	return nil
}

// deleteOurs destroys the machines carrying the launch ID, then deletes
// the launch's volumes, and returns the IDs of those machines and of the
// others (both nil if the app is not there or not ours to look into).
func (d *driver) deleteOurs(ctx context.Context) (ours, others []string, err error) {
	mine, others, err := d.machinesByOwner(ctx)
	if err != nil || mine == nil && others == nil {
		return nil, others, err
	}
	if d.onlyDead {
		if err := d.refuseLive(mine); err != nil {
			return nil, nil, err
		}
	}
	volumes := []string{}
	if d.rec.VolumeID != "" {
		volumes = append(volumes, d.rec.VolumeID)
	}
	held := map[string]bool{}
	ours = []string{}
	for _, m := range mine {
		if err := d.destroyMachine(ctx, m.ID); err != nil {
			return nil, nil, err
		}
		ours = append(ours, m.ID)
		held[m.ID] = true
		if v := mountedVolume(m); v != "" && !slices.Contains(volumes, v) {
			volumes = append(volumes, v)
		}
	}
	for _, id := range volumes {
		if err := d.deleteOwnVolume(ctx, id, held); err != nil {
			return nil, nil, err
		}
	}
	return ours, others, nil
}

// deleteOwnVolume deletes the launch's volume id unless a machine that is
// not one of the launch's (ours) holds it; one already gone is no error.
func (d *driver) deleteOwnVolume(ctx context.Context, id string, ours map[string]bool) error {
	var v *fly.Volume
	err := d.call(ctx, "get volume "+id, func(ctx context.Context) (err error) {
		v, err = d.l.client.GetVolume(ctx, d.spec.App, id)
		return err
	})
	switch {
	case statusOf(err) == http.StatusNotFound:
		return nil
	case err != nil:
		return err
	case v.Name != volumeName(d.spec.App):
		d.l.log.Warn("flylaunch: volume kept, its name is not the launch's", "launch_id", d.rec.LaunchID, "volume", id)
		return nil
	case v.AttachedMachine != nil && !ours[*v.AttachedMachine]:
		d.l.log.Warn("flylaunch: volume kept, another machine holds it", "launch_id", d.rec.LaunchID, "volume", id, "machine", *v.AttachedMachine)
		return nil
	}
	return d.deleteVolume(ctx, id)
}

// keepApp returns why the app must stay, or nil if Delete may delete it.
func (d *driver) keepApp(others []string) error {
	switch {
	case !d.rec.AppCreated:
		return fmt.Errorf("%w: %s was not created by launch %s", ErrAppKept, d.rec.App, d.rec.LaunchID)
	case d.rec.AppID == "":
		return fmt.Errorf("%w: the record of launch %s does not name the app's Fly ID, so %s cannot be proven the app it created", ErrAppKept, d.rec.LaunchID, d.rec.App)
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
	if d.appID != d.rec.AppID {
		return d.gone("check app "+d.spec.App, errReplaced)
	}
	return d.retry(ctx, "delete app "+d.spec.App, func(ctx context.Context) error {
		err := d.try(ctx, 0, func(ctx context.Context) error { return d.l.client.DeleteApp(ctx, d.spec.App) })
		if statusOf(err) == http.StatusNotFound {
			return nil
		}
		return err
	})
}
