package flylaunch

import (
	"context"

	"net/http"

	fly "github.com/superfly/fly-go"
)

// Destroy removes what the deploy described by rec created: every machine
// carrying its launch ID (and rec.MachineID), then the app if it is in
// rec.Org. A deploy of rec running in this Launcher is cancelled first.
// Things already gone are not errors, so Destroy may be repeated. Destroy
// only acts when asked: failed deploys keep their resources so they can be
// resumed.
func (l *Launcher) Destroy(ctx context.Context, rec Record) error {
	if err := rec.Validate(); err != nil {
		return err
	}
	l.mu.Lock()
	dep := l.deploys[rec.LaunchID]
	l.mu.Unlock()
	if dep != nil {
		dep.Cancel()
		select {
		case <-dep.Done():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	d := &driver{l: l, spec: Spec{App: rec.App, Org: rec.Org, Region: rec.Region}, rec: rec, step: "destroy"}

	var machines []*fly.Machine
	err := d.retry(ctx, "list machines", func(ctx context.Context) (err error) {
		machines, err = d.listMachines(ctx)
		switch statusOf(err) {
		case http.StatusNotFound, http.StatusUnauthorized, http.StatusForbidden:
			return nil // no app, or not ours: nothing to destroy
		}
		return err
	})
	if err != nil {
		return err
	}
	ids := map[string]bool{}
	if rec.MachineID != "" {
		ids[rec.MachineID] = true
	}
	for _, m := range machines {
		ids[m.ID] = true
	}
	for id := range ids {
		err := d.retry(ctx, "destroy machine "+id, func(ctx context.Context) error {
			err := d.try(ctx, 0, func(ctx context.Context) error {
				return l.client.Destroy(ctx, rec.App, fly.RemoveMachineInput{ID: id, Kill: true}, "")
			})
			if statusOf(err) == http.StatusNotFound {
				return nil
			}
			return err
		})
		if err != nil {
			return err
		}
	}

	var st appState
	err = d.retry(ctx, "check app "+rec.App, func(ctx context.Context) (err error) {
		st, err = d.lookupApp(ctx)
		return err
	})
	if err != nil || st != appOurs {
		return err
	}
	err = d.retry(ctx, "delete app "+rec.App, func(ctx context.Context) error {
		err := d.try(ctx, 0, func(ctx context.Context) error { return l.client.DeleteApp(ctx, rec.App) })
		if statusOf(err) == http.StatusNotFound {
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	l.log.Info("flylaunch: destroyed", "launch_id", rec.LaunchID, "app", rec.App, "machines", len(ids))
	return nil
}
