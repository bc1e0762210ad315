package flylaunch

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	fly "github.com/superfly/fly-go"
)

// Where the launch's volume goes and what Livebook keeps on it. The
// Livebook image runs in /data and sets LIVEBOOK_HOME=/data (its
// Dockerfile), the default directory of its file pickers, where notebooks
// are saved; LIVEBOOK_DATA_PATH, Livebook's own configuration (settings,
// hubs, secrets and the autosaved notebooks, Livebook.Settings
// default_autosave_path), defaults to ~/.local/share/livebook on the
// machine's temporary disk (Livebook.Config.data_path), so it is moved
// onto the volume too (Livebook's README, "Environment variables").
//
// Mix.install, which notebooks use for their dependencies, caches what it
// fetched and compiled under ~/.cache/mix/installs, on the machine's
// temporary root file system (Livebook's Dockerfile sets HOME=/home/livebook
// "for Mix.install/2 cache"; seen in the stored, older Dockerfile, not
// checked against 0.19.8's), so every boot would fetch and compile them
// again. Livebook has no setting of its own for it, but Mix reads
// MIX_INSTALL_DIR ("specifies directory where Mix.install/2 keeps installs
// cache", Mix's moduledoc, since Elixir 1.12) and Livebook's runtimes
// inherit the machine's environment, so it is moved onto the volume too.
// The cache then takes room on the volume: large dependencies (EXLA, for
// one) can fill a small one.
const (
	volumePath       = "/data"
	livebookHomeEnv  = "LIVEBOOK_HOME"
	livebookDataEnv  = "LIVEBOOK_DATA_PATH"
	livebookDataPath = "/data/.livebook"
	mixInstallEnv    = "MIX_INSTALL_DIR"
	mixInstallPath   = "/data/.cache/mix/installs"
)

// volumeEnv is env with Livebook's home and data, and Mix.install's cache,
// on the volume, when there is one; values env sets itself are kept.
func volumeEnv(env map[string]string, volumeID string) map[string]string {
	out := maps.Clone(env)
	if volumeID == "" {
		return out
	}
	if out == nil {
		out = map[string]string{}
	}
	for k, v := range map[string]string{livebookHomeEnv: volumePath, livebookDataEnv: livebookDataPath, mixInstallEnv: mixInstallPath} {
		if _, set := out[k]; !set {
			out[k] = v
		}
	}
	return out
}

// volumeName is the name of the volume of a launch of app: the app name
// with underscores for dashes (Fly volume names take lowercase letters,
// digits and underscores), cut to 30 characters. Fly does not refuse a
// repeated volume name, so the name only finds candidates; the record
// keeps the volume's ID.
func volumeName(app string) string {
	n := strings.ReplaceAll(app, "-", "_")
	return n[:min(len(n), 30)]
}

// createVolume creates the launch's volume in its region and records its
// ID. After a failed attempt that may have been applied, and on a resumed
// deploy, it first waits a lookup delay and adopts the oldest volume of
// the launch's name instead of creating another (the app is the launch's
// own, so a volume of that name is the launch's); the volume list lags
// behind writes, so a duplicate can still slip through: dedupe removes it.
//
// A volume pins its machine to the host it is on, and without a compute
// hint Fly may place it on a host with room for the volume but not for the
// machine (https://fly.io/docs/volumes/overview/, "Volume placement"): the
// create names the machine's guest and image, as flyctl's deploy does
// (internal/command/deploy/deploy_first.go). A volume whose ID came back
// from this create is the launch's fresh volume (d.freshVolume), which a
// launch refused for capacity may replace (launchMachine).
func (d *driver) createVolume(ctx context.Context) error {
	if d.rec.VolumeID != "" {
		return nil
	}
	guest, err := d.spec.guest()
	if err != nil {
		return err
	}
	req := fly.CreateVolumeRequest{
		Name: volumeName(d.spec.App), Region: d.spec.Region, SizeGb: ptr(d.spec.VolumeSizeGB),
		Encrypted: ptr(true), RequireUniqueZone: ptr(false),
		ComputeRequirements: guest, ComputeImage: d.spec.Image,
	}
	look := d.resumed
	return d.retry(ctx, "create volume "+req.Name+" in "+d.spec.Region, func(ctx context.Context) error {
		if look {
			if found, err := d.adoptVolume(ctx); found || err != nil {
				return err
			}
		}
		err := d.try(ctx, 0, func(ctx context.Context) error {
			v, err := d.l.client.CreateVolume(ctx, d.spec.App, req)
			if err == nil {
				d.rec.VolumeID, d.freshVolume = v.ID, v.ID
			}
			return err
		})
		d.volumeAt = time.Now()
		d.visibleBy = d.volumeAt.Add(d.l.propagation)
		if err != nil && !isNoCapacity(err) {
			look, d.volumeAmbiguous = true, true
		}
		return err
	})
}

// adoptVolume waits the lookup delay, then takes the oldest volume of the
// launch's name and region as the launch's, if there is one.
func (d *driver) adoptVolume(ctx context.Context) (bool, error) {
	if err := sleep(ctx, d.l.lookupDelay()); err != nil {
		return false, err
	}
	vs, err := d.listVolumes(ctx)
	if err != nil || len(vs) == 0 {
		return false, err
	}
	d.rec.VolumeID = vs[0].ID
	return true, nil
}

// listVolumes lists the app's volumes of the launch's name and region
// that are not being deleted, oldest first.
func (d *driver) listVolumes(ctx context.Context) ([]fly.Volume, error) {
	var all []fly.Volume
	err := d.try(ctx, 0, func(ctx context.Context) (err error) {
		all, err = d.l.client.GetVolumes(ctx, d.spec.App)
		return err
	})
	if err != nil {
		return nil, err
	}
	name := volumeName(d.spec.App)
	ours := slices.DeleteFunc(all, func(v fly.Volume) bool { return v.Name != name || v.Region != d.spec.Region })
	slices.SortStableFunc(ours, func(a, b fly.Volume) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return ours, nil
}

// adoptHolder handles a launch refused because the launch's volume is
// already attached: if the machine holding it carries the launch ID (a
// launch of ours that was applied, which a lagging list did not show), it
// becomes the deploy's machine. It reports whether it did.
func (d *driver) adoptHolder(ctx context.Context) (bool, error) {
	var v *fly.Volume
	err := d.try(ctx, 0, func(ctx context.Context) (err error) {
		v, err = d.l.client.GetVolume(ctx, d.spec.App, d.rec.VolumeID)
		return err
	})
	if err != nil || v.AttachedMachine == nil {
		return false, err
	}
	var m *fly.Machine
	err = d.try(ctx, 0, func(ctx context.Context) (err error) {
		m, err = d.l.client.Get(ctx, d.spec.App, *v.AttachedMachine)
		return err
	})
	if err != nil || !m.IsActive() || m.GetMetadataByKey(MetadataKey) != d.rec.LaunchID {
		return false, err
	}
	d.rec.MachineID = m.ID
	return true, nil
}

// dedupeVolumes keeps one volume of the launch's name: the one the kept
// machine mounts (keep; "" when it mounts none: the recorded one). The
// others that are unattached, or attached to one of the launch's machines
// (ours: dedupe just destroyed the duplicates), are the launch's (its
// name, in its own app) and deleted. A launch without a volume (a record
// from before volumes) deletes nothing.
func (d *driver) dedupeVolumes(ctx context.Context, keep string, ours map[string]bool) error {
	if keep != "" {
		d.rec.VolumeID = keep
	}
	d.volumeAmbiguous = false
	if d.rec.VolumeID == "" {
		return nil
	}
	var vs []fly.Volume
	err := d.retry(ctx, "list volumes", func(ctx context.Context) (err error) {
		vs, err = d.listVolumes(ctx)
		return err
	})
	if err != nil {
		return err
	}
	for _, v := range vs {
		if v.ID == d.rec.VolumeID || v.AttachedMachine != nil && !ours[*v.AttachedMachine] {
			continue
		}
		d.l.log.Warn("flylaunch: deleting a duplicate volume", "launch_id", d.rec.LaunchID, "volume", v.ID, "kept", d.rec.VolumeID)
		if err := d.deleteVolume(ctx, v.ID); err != nil {
			return err
		}
	}
	return nil
}

// deleteVolume deletes one volume; one already gone is no error. A volume
// still attached to a machine being destroyed is refused (412) until the
// machine lets go of it: that is retried at the poll interval for up to
// the propagation bound.
func (d *driver) deleteVolume(ctx context.Context, id string) error {
	until := time.Now().Add(d.l.propagation)
	for wait := d.l.pollInterval; ; wait = min(wait*2, 4*d.l.pollInterval) {
		err := d.call(ctx, "delete volume "+id, func(ctx context.Context) error {
			_, err := d.l.client.DeleteVolume(ctx, d.spec.App, id)
			return err
		})
		switch {
		case err == nil, statusOf(err) == http.StatusNotFound:
			return nil
		case statusOf(err) != http.StatusPreconditionFailed || time.Now().After(until):
			return err
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// isAttached reports Fly's answer to a machine that mounts a volume
// another machine holds: 412, without a capacity message.
func isAttached(err error) bool {
	return statusOf(err) == http.StatusPreconditionFailed && !isNoCapacity(err)
}

var errVolumeHeld = errors.New("the launch's volume is attached to a machine that is not the launch's")
