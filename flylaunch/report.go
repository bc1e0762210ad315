package flylaunch

import (
	"context"
	"errors"
	"log/slog"

	fly "github.com/superfly/fly-go"
)

// report ends the resume of a finished launch: it asks Fly for the
// machine the record names, and succeeds with the app's URL if the machine
// still exists and carries the launch ID, or fails with ErrGone. It only
// reads: a finished launch is never changed, continued or cleaned up.
func (d *driver) report(ctx context.Context, log *slog.Logger) (Result, error) {
	d.step, d.percent = StepDone, 100
	d.dep.emit(StepDone, StatusRunning, d.percent, "checking the launch's machine "+d.rec.MachineID, nil)
	m, err := d.getMachine(ctx)
	if err == nil && (!m.IsActive() || m.GetMetadataByKey(MetadataKey) != d.rec.LaunchID) {
		err = d.gone("get machine "+d.rec.MachineID, errors.New("machine "+m.ID+" is "+m.State))
	}
	if err != nil {
		return Result{}, d.fail(ctx, log, err)
	}
	if m.Region != "" {
		d.rec.Region = m.Region
	}
	rec, url := d.rec, d.spec.URL()
	d.dep.emit(StepDone, StatusSucceeded, 100, "Livebook is at "+url+" (machine "+m.State+")", &rec)
	log.Info("flylaunch: finished launch reported", "url", url, "machine_state", m.State)
	return Result{URL: url, Record: rec, MachineState: m.State}, nil
}

// getMachine reads the deploy's machine, with retries.
func (d *driver) getMachine(ctx context.Context) (*fly.Machine, error) {
	var m *fly.Machine
	op := "get machine " + d.rec.MachineID
	err := d.call(ctx, op, func(ctx context.Context) (err error) {
		m, err = d.l.client.Get(ctx, d.spec.App, d.rec.MachineID)
		return err
	})
	return m, err
}
