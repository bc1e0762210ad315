package flylaunch

import (
	"context"
	"errors"
	"log/slog"
	"time"

	fly "github.com/superfly/fly-go"
)

// report ends the resume of a finished launch: it asks Fly for the
// machine the record names, and succeeds with the app's URL if the machine
// still exists and carries the launch ID, or fails with ErrGone. It only
// reads: a finished launch is never changed, continued or cleaned up.
func (d *driver) report(ctx context.Context, log *slog.Logger) (Result, error) {
	d.step = StepDone
	d.dep.emit(StepDone, StatusRunning, "checking the launch's machine "+d.rec.MachineID, nil)
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
	d.dep.emit(StepDone, StatusSucceeded, "Livebook is at "+url+" (machine "+m.State+")", &rec)
	log.Info("flylaunch: finished launch reported", "url", url, "machine_state", m.State)
	return Result{URL: url, Record: rec, MachineState: m.State, Reported: true}, nil
}

// finishedBefore reports whether m, still active, carries DoneKey: a
// deploy of the launch finished before this one looked.
func finishedBefore(m *fly.Machine) bool { return m.IsActive() && m.GetMetadataByKey(DoneKey) != "" }

// markDone records in Fly that the launch finished (DoneKey on its
// machine). A failure is logged, not fatal: the launch did finish, and a
// later resume only loses the fact that it was reported.
func (d *driver) markDone(ctx context.Context, log *slog.Logger) {
	at := d.l.clock().UTC().Format(time.RFC3339)
	err := d.call(ctx, "mark machine "+d.rec.MachineID+" done", func(ctx context.Context) error {
		return d.l.client.SetMetadata(ctx, d.spec.App, d.rec.MachineID, DoneKey, at)
	})
	if err != nil {
		log.Warn("flylaunch: could not mark the launch done", "machine", d.rec.MachineID, "err", err.Error())
	}
}
