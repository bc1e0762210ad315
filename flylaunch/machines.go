package flylaunch

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	fly "github.com/superfly/fly-go"
)

// launchMachine launches the deploy's machine, tagged with the launch ID.
// After a failed attempt that may have been applied, and on a resumed
// deploy, it first waits a lookup delay (Fly's machine list lags behind
// writes; flyctl's blue-green launch waits launchLookupDelay for the same
// reason) and adopts a machine carrying the launch ID instead of launching
// another. The list can lag longer than that, so a duplicate can still
// slip through: dedupe removes it later. A 409 is not read as "our name is
// taken": Fly does not promise to refuse a repeated machine name. The
// launch's volume is the exception that proves the rule: a volume takes
// one machine, so a launch refused because it is attached finds the
// launch's machine through it (adoptHolder).
//
// A volume pins its machine to its host, and the host may have no room
// for the machine (a volume placed without a hint, or a host that filled
// up since): every launch on that volume is then refused for capacity.
// When the volume is the launch's fresh one (its ID came back from this
// deploy's own create, and the refusal says no machine holds it), the
// launch deletes it and creates another, up to maxVolumeMoves times; when
// it gives up, it deletes the last one too and ends with ErrNoCapacity,
// its record naming no volume, so a resume creates a new one instead of
// reusing a volume on a host without room.
func (d *driver) launchMachine(ctx context.Context) error {
	for moves := 0; ; moves++ {
		err := d.launchOnce(ctx)
		if err == nil || !isNoCapacity(err) || d.rec.MachineID != "" ||
			d.rec.VolumeID == "" || d.rec.VolumeID != d.freshVolume {
			return err
		}
		if derr := d.dropFreshVolume(ctx, moves < maxVolumeMoves); derr != nil {
			return derr
		}
		if moves >= maxVolumeMoves {
			return err
		}
		if err := d.createVolume(ctx); err != nil {
			return err
		}
	}
}

// maxVolumeMoves bounds how many times a launch refused for capacity on its
// fresh volume deletes it and creates another.
const maxVolumeMoves = 3

// dropFreshVolume deletes the launch's fresh volume, on whose host the
// machine found no room, and takes it out of the record (the step goes back
// before the volume's, so a resume creates a new one); again says whether
// another volume is created next, for the event.
func (d *driver) dropFreshVolume(ctx context.Context, again bool) error {
	id := d.rec.VolumeID
	d.l.log.Warn("flylaunch: no room for the machine on its volume's host; deleting the volume", "launch_id", d.rec.LaunchID, "volume", id, "again", again)
	if err := d.deleteVolume(ctx, id); err != nil {
		return err
	}
	d.rec.VolumeID, d.freshVolume = "", ""
	if d.rec.Step.index() >= StepVolume.index() {
		d.rec.Step = StepIPs
	}
	if d.dep != nil {
		msg := "no room for the machine on its volume's server: deleted that volume"
		if again {
			msg += ", creating another"
		}
		rec := d.rec
		d.dep.emit(d.step, StatusRunning, msg, &rec)
	}
	return nil
}

// launchOnce launches the deploy's machine on the recorded volume, as
// launchMachine describes.
func (d *driver) launchOnce(ctx context.Context) error {
	if d.rec.MachineID != "" {
		return nil
	}
	in, err := launchInput(d.spec, d.rec.LaunchID, d.rec.SecretsVersion, d.rec.VolumeID)
	if err != nil {
		return err
	}
	look := d.resumed
	op := "launch machine in " + d.spec.Region
	return d.retry(ctx, op, func(ctx context.Context) error {
		if look {
			if found, err := d.adoptMachine(ctx); found || err != nil {
				return err
			}
		}
		err := d.try(ctx, 0, func(ctx context.Context) error {
			m, err := d.l.client.Launch(ctx, d.spec.App, in)
			if err == nil {
				d.rec.MachineID = m.ID
			}
			return err
		})
		d.launchedAt = time.Now()
		d.visibleBy = d.launchedAt.Add(d.l.propagation)
		if err != nil && !isNoCapacity(err) {
			look, d.ambiguous = true, true
		}
		if isAttached(err) && d.rec.VolumeID != "" {
			return d.launchOnHeldVolume(ctx, op, err)
		}
		if statusOf(err) == http.StatusConflict {
			return d.adoptNamesake(ctx, op, err)
		}
		return err
	})
}

// adoptNamesake answers Fly's 409 "a machine named livebook-<launch ID>
// already exists": the name carries the launch ID, so another driver of
// the launch (or a lost answer of ours) launched it. It is adopted once
// the list shows it, for up to the propagation bound; a 409 whose machine
// never shows up ends the step.
func (d *driver) adoptNamesake(ctx context.Context, op string, conflict error) error {
	until := time.Now().Add(d.l.propagation)
	for time.Now().Before(until) {
		found, err := d.adoptMachine(ctx)
		if found || err != nil {
			d.ambiguous = true // it may have a twin the list does not show yet
			return err
		}
	}
	return newAPIError(d.step, op, 1, conflict)
}

// readopt answers the deploy's machine found destroyed: another driver of
// the launch (a second tab's, on another instance) may have kept a twin
// of it and destroyed this one (dedupe), so the deploy follows the machine
// that carries the launch ID now, if any. Only a driver of this launch
// makes a machine carrying its ID. It reports whether there is one.
func (d *driver) readopt(ctx context.Context, m *fly.Machine) (bool, error) {
	if m.IsActive() {
		return false, nil
	}
	ms, err := d.listMachines(ctx)
	if err != nil || len(ms) == 0 {
		return false, err
	}
	keep := preferred(ms)
	d.l.log.Info("flylaunch: following the launch's machine", "launch_id", d.rec.LaunchID, "was", m.ID, "now", keep.ID)
	d.adopt(keep)
	return true, nil
}

// preferred is the machine of the launch that every driver keeps, of ms
// (oldest first): the oldest one that a deploy marked done (DoneKey: a
// page shows it), else the oldest.
func preferred(ms []*fly.Machine) *fly.Machine {
	for _, m := range ms {
		if finishedBefore(m) {
			return m
		}
	}
	return ms[0]
}

// launchOnHeldVolume answers a launch refused because the launch's volume
// is attached: the holder is adopted if it is the launch's machine; any
// other holder ends the deploy.
func (d *driver) launchOnHeldVolume(ctx context.Context, op string, refused error) error {
	found, err := d.adoptHolder(ctx)
	switch {
	case found:
		return nil
	case err != nil:
		return err
	}
	return newAPIError(d.step, op, 1, fmt.Errorf("%w: %w", errVolumeHeld, refused))
}

// adoptMachine waits the lookup delay, then takes the oldest machine
// carrying the launch ID as the deploy's, if there is one.
func (d *driver) adoptMachine(ctx context.Context) (bool, error) {
	if err := sleep(ctx, d.l.lookupDelay()); err != nil {
		return false, err
	}
	ms, err := d.listMachines(ctx)
	if err != nil || len(ms) == 0 {
		return false, err
	}
	d.adopt(preferred(ms))
	return true, nil
}

// dedupe keeps one machine and one volume per launch ID. When the deploy
// may have launched twice or created its volume twice (an ambiguous call,
// or a resume racing the process that started it), it waits until the
// lists have had the propagation bound to catch up, lists the machines
// carrying the launch ID, keeps one (preferred: the one a deploy marked
// done, else the oldest, as every driver of the launch does) and
// destroys the others, which
// are provably this launch's, then keeps the volume the kept machine
// mounts and deletes the other volumes of the launch's name
// (dedupeVolumes). It reports whether the deploy's machine changed.
func (d *driver) dedupe(ctx context.Context) (bool, error) {
	if !d.ambiguous && !d.volumeAmbiguous {
		return false, nil
	}
	settled := d.launchedAt
	if d.volumeAt.After(settled) {
		settled = d.volumeAt
	}
	if err := sleep(ctx, time.Until(settled.Add(d.l.propagation))); err != nil {
		return false, err
	}
	var ms []*fly.Machine
	err := d.retry(ctx, "list machines", func(ctx context.Context) (err error) {
		ms, err = d.listMachines(ctx)
		return err
	})
	if err != nil || len(ms) == 0 {
		return false, err
	}
	keep := preferred(ms)
	for _, m := range ms {
		if m == keep {
			continue
		}
		d.l.log.Warn("flylaunch: destroying a duplicate machine", "launch_id", d.rec.LaunchID, "machine", m.ID, "kept", keep.ID)
		if err := d.destroyMachine(ctx, m.ID); err != nil {
			return false, err
		}
	}
	d.ambiguous = false
	changed := d.rec.MachineID != keep.ID
	d.rec.MachineID = keep.ID
	ours := map[string]bool{}
	for _, m := range ms {
		ours[m.ID] = true
	}
	return changed, d.dedupeVolumes(ctx, mountedVolume(keep), ours)
}

// mountedVolume is the volume m mounts at /data, or "".
func mountedVolume(m *fly.Machine) string {
	for _, mt := range m.GetConfig().Mounts {
		if mt.Path == volumePath {
			return mt.Volume
		}
	}
	return ""
}

// listMachines lists the active machines carrying the launch ID, oldest
// first.
func (d *driver) listMachines(ctx context.Context) ([]*fly.Machine, error) {
	var all []*fly.Machine
	filter := "metadata." + MetadataKey + "=" + url.QueryEscape(d.rec.LaunchID)
	err := d.try(ctx, 0, func(ctx context.Context) (err error) {
		all, err = d.l.client.List(ctx, d.spec.App, filter)
		return err
	})
	if err != nil {
		return nil, err
	}
	var ours []*fly.Machine
	for _, m := range all { // the filter is server-side; check anyway
		if m != nil && m.IsActive() && m.GetMetadataByKey(MetadataKey) == d.rec.LaunchID {
			ours = append(ours, m)
		}
	}
	return oldestFirst(ours), nil
}

// adopt makes m, a machine carrying the launch ID, the deploy's machine,
// and the volume it mounts the deploy's volume.
func (d *driver) adopt(m *fly.Machine) {
	d.rec.MachineID = m.ID
	if v := mountedVolume(m); v != "" {
		d.rec.VolumeID = v
	}
}

// oldestFirst sorts machines by creation, then ID, and returns them.
func oldestFirst(ms []*fly.Machine) []*fly.Machine {
	slices.SortStableFunc(ms, func(a, b *fly.Machine) int {
		return cmp.Or(cmp.Compare(a.CreatedAt, b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return ms
}

// destroyMachine destroys one machine; one already gone is no error.
func (d *driver) destroyMachine(ctx context.Context, id string) error {
	return d.retry(ctx, "destroy machine "+id, func(ctx context.Context) error {
		err := d.try(ctx, 0, func(ctx context.Context) error {
			return d.l.client.Destroy(ctx, d.spec.App, fly.RemoveMachineInput{ID: id, Kill: true}, "")
		})
		if statusOf(err) == http.StatusNotFound {
			return nil
		}
		return err
	})
}

// machinesByOwner lists the app's active machines and splits them into
// those carrying the launch ID (oldest first) and the IDs of the others.
// Both are nil when the app does not exist or belongs to an org the token
// cannot see. The machine list may lag a fresh launch, so a recorded
// machine missing from it is read directly.
func (d *driver) machinesByOwner(ctx context.Context) (ours []*fly.Machine, others []string, err error) {
	var all []*fly.Machine
	err = d.call(ctx, "list machines", func(ctx context.Context) (err error) {
		all, err = d.l.client.List(ctx, d.spec.App, "")
		return err
	})
	switch statusOf(err) {
	case http.StatusNotFound, http.StatusUnauthorized, http.StatusForbidden:
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	ours, others = []*fly.Machine{}, []string{}
	seen := map[string]bool{}
	for _, m := range all {
		if m == nil || !m.IsActive() {
			continue
		}
		seen[m.ID] = true
		if m.GetMetadataByKey(MetadataKey) == d.rec.LaunchID {
			ours = append(ours, m)
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
			ours = append(ours, m)
		}
	}
	return oldestFirst(ours), others, nil
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
