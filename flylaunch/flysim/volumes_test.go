package flysim_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/sealkit/sealkit/internal/fakeclock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// volumeRequest is a create request like flylaunch's.
func volumeRequest(name, region string) fly.CreateVolumeRequest {
	size, yes := 1, true
	return fly.CreateVolumeRequest{Name: name, Region: region, SizeGb: &size, Encrypted: &yes}
}

// mounted is a mod of livebookMachine that mounts volume id at /data.
func mounted(id string) func(*fly.MachineConfig) {
	return func(c *fly.MachineConfig) { c.Mounts = []fly.MachineMount{{Volume: id, Path: "/data"}} }
}

// testVolumes: create, list, get and delete through fly-go; a deleted
// volume is scheduling_destroy, then pending_destroy for a day, and
// fly-go's GetVolumes leaves both out while GetAllVolumes shows them.
func testVolumes(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "vols", Org: "personal"})
	require.NoError(t, err)

	v, err := e.client.CreateVolume(ctx, "vols", volumeRequest("vols_data", "ams"))
	require.NoError(t, err)
	assert.Regexp(t, `^vol_[0-9a-z]{16}$`, v.ID)
	assert.Equal(t, "created", v.State)
	assert.Equal(t, "vols_data", v.Name)
	assert.Equal(t, "ams", v.Region)
	assert.Equal(t, 1, v.SizeGb)
	assert.True(t, v.Encrypted)
	assert.False(t, v.IsAttached())
	e.clock.Advance(time.Second)
	twin, err := e.client.CreateVolume(ctx, "vols", volumeRequest("vols_data", "ams"))
	require.NoError(t, err, "Fly does not refuse a name another volume has")

	list, err := e.client.GetVolumes(ctx, "vols")
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, []string{v.ID, twin.ID}, []string{list[0].ID, list[1].ID}, "oldest first")
	got, err := e.client.GetVolume(ctx, "vols", v.ID)
	require.NoError(t, err)
	assert.Equal(t, v.ID, got.ID)

	del, err := e.client.DeleteVolume(ctx, "vols", twin.ID)
	require.NoError(t, err)
	assert.Equal(t, "scheduling_destroy", del.State)
	e.clock.Advance(2 * time.Second)
	got, err = e.client.GetVolume(ctx, "vols", twin.ID)
	require.NoError(t, err)
	assert.Equal(t, "pending_destroy", got.State)
	list, err = e.client.GetVolumes(ctx, "vols")
	require.NoError(t, err)
	require.Len(t, list, 1, "GetVolumes drops deleted volumes")
	all, err := e.client.GetAllVolumes(ctx, "vols")
	require.NoError(t, err)
	assert.Len(t, all, 2)
	_, err = e.client.DeleteVolume(ctx, "vols", twin.ID)
	requireFlapsError(t, err, http.StatusNotFound)
	assert.Equal(t, 1, e.sim.VolumeCount("vols"))

	e.clock.Advance(25 * time.Hour)
	_, err = e.client.GetVolume(ctx, "vols", twin.ID)
	requireFlapsError(t, err, http.StatusNotFound)

	for name, req := range map[string]fly.CreateVolumeRequest{
		"dash in name":   volumeRequest("bad-name", "ams"),
		"name too long":  volumeRequest("a234567890123456789012345678901", "ams"),
		"no region":      volumeRequest("ok", ""),
		"no size":        {Name: "ok", Region: "ams"},
		"from snapshot":  {Name: "ok", Region: "ams", SizeGb: new(1), SnapshotID: new("snap")},
		"too large size": {Name: "ok", Region: "ams", SizeGb: new(501)},
	} {
		_, err := e.client.CreateVolume(ctx, "vols", req)
		require.Error(t, err, name)
		assert.Equal(t, http.StatusBadRequest, statusOf(t, err), name)
	}
	_, err = e.client.CreateVolume(ctx, "no-such-app", volumeRequest("ok", "ams"))
	requireFlapsError(t, err, http.StatusNotFound)
}

// testVolumeAttach: a machine mounts a volume by ID from its config and
// the volume reports it; a second machine on it answers 412, and so does
// deleting it; once the machine is destroyed the volume is free again.
func testVolumeAttach(t *testing.T) {
	e := newEnv(t, flysim.Options{Profile: strictOnly()})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "attach", Org: "personal"})
	require.NoError(t, err)
	_, err = e.client.SetAppSecret(ctx, "attach", "LIVEBOOK_PASSWORD", goodPassword)
	require.NoError(t, err)
	v, err := e.client.CreateVolume(ctx, "attach", volumeRequest("attach", "ams"))
	require.NoError(t, err)

	m, err := e.client.Launch(ctx, "attach", livebookMachine(mounted(v.ID)))
	require.NoError(t, err)
	assert.Equal(t, []fly.MachineMount{{Volume: v.ID, Path: "/data"}}, m.Config.Mounts)
	got, err := e.client.GetVolume(ctx, "attach", v.ID)
	require.NoError(t, err)
	require.True(t, got.IsAttached())
	assert.Equal(t, m.ID, *got.AttachedMachine)

	_, err = e.client.Launch(ctx, "attach", livebookMachine(mounted(v.ID)))
	fe := requireFlapsError(t, err, http.StatusPreconditionFailed)
	assert.Contains(t, fe.Error(), "already attached to machine "+m.ID)
	_, err = e.client.DeleteVolume(ctx, "attach", v.ID)
	requireFlapsError(t, err, http.StatusPreconditionFailed)
	machines, _, _ := e.sim.Counts("attach")
	assert.Equal(t, 1, machines, "the refused launch made nothing")

	for name, mod := range map[string]func(*fly.MachineConfig){
		"unknown volume": mounted("vol_0000000000000000"),
		"relative path":  func(c *fly.MachineConfig) { c.Mounts = []fly.MachineMount{{Volume: v.ID, Path: "data"}} },
		"no volume":      func(c *fly.MachineConfig) { c.Mounts = []fly.MachineMount{{Path: "/data"}} },
		"other region": func(c *fly.MachineConfig) {
			other, err := e.client.CreateVolume(ctx, "attach", volumeRequest("attach", "iad"))
			require.NoError(t, err)
			c.Mounts = []fly.MachineMount{{Volume: other.ID, Path: "/data"}}
		},
	} {
		_, err := e.client.Launch(ctx, "attach", livebookMachine(mod))
		require.Error(t, err, name)
		assert.Contains(t, []int{http.StatusBadRequest, http.StatusNotFound}, statusOf(t, err), name)
	}

	require.NoError(t, e.client.Destroy(ctx, "attach", fly.RemoveMachineInput{ID: m.ID, Kill: true}, ""))
	_, err = e.client.DeleteVolume(ctx, "attach", v.ID)
	requireFlapsError(t, err, http.StatusPreconditionFailed)
	e.clock.Advance(time.Second)
	got, err = e.client.GetVolume(ctx, "attach", v.ID)
	require.NoError(t, err)
	assert.False(t, got.IsAttached(), "a destroyed machine lets go of its volume")
	again, err := e.client.Launch(ctx, "attach", livebookMachine(mounted(v.ID)))
	require.NoError(t, err, "a free volume mounts again")
	require.NoError(t, e.client.Destroy(ctx, "attach", fly.RemoveMachineInput{ID: again.ID, Kill: true}, ""))
	e.clock.Advance(time.Second)
	_, err = e.client.DeleteVolume(ctx, "attach", v.ID)
	require.NoError(t, err)
}

// testVolumePropagation: a new volume's GetVolume answers 404 and volume
// lists miss it for a while, like a new machine's; a launch may mount it
// at once.
func testVolumePropagation(t *testing.T) {
	prof := flysim.Profile{Name: "volumes", MachinePropagation: 3 * time.Second, ListLag: 5 * time.Second, StrictMachines: true}
	e := newEnv(t, flysim.Options{Profile: prof})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "lagvol", Org: "personal"})
	require.NoError(t, err)
	_, err = e.client.SetAppSecret(ctx, "lagvol", "LIVEBOOK_PASSWORD", goodPassword)
	require.NoError(t, err)
	start := e.clock.Now()
	v, err := e.client.CreateVolume(ctx, "lagvol", volumeRequest("lagvol", "ams"))
	require.NoError(t, err)

	_, err = e.client.GetVolume(ctx, "lagvol", v.ID)
	requireFlapsError(t, err, http.StatusNotFound)
	list, err := e.client.GetVolumes(ctx, "lagvol")
	require.NoError(t, err)
	assert.Empty(t, list)
	_, err = e.client.Launch(ctx, "lagvol", livebookMachine(mounted(v.ID)))
	require.NoError(t, err, "placement reads the volume store as it is")

	d := firstVisible(t, e, 1, start, func() error { _, err := e.client.GetVolume(ctx, "lagvol", v.ID); return err })
	assert.GreaterOrEqual(t, d, 1500*time.Millisecond)
	assert.LessOrEqual(t, d, 3*time.Second)
	d = firstVisible(t, e, 1, start, func() error {
		list, err := e.client.GetVolumes(ctx, "lagvol")
		if err == nil && len(list) == 0 {
			return errors.New("empty")
		}
		return err
	})
	assert.GreaterOrEqual(t, d, 2500*time.Millisecond)
	assert.LessOrEqual(t, d, 5*time.Second)
}

// TestVolumesPersist: volumes and what they are attached to survive a
// restart on the same data directory.
func TestVolumesPersist(t *testing.T) {
	dir := t.TempDir()
	clock := fakeclock.At(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	e := newEnv(t, flysim.Options{DataDir: dir, Clock: clock.Now, Profile: strictOnly()})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "kept-vol", Org: "personal"})
	require.NoError(t, err)
	v, err := e.client.CreateVolume(ctx, "kept-vol", volumeRequest("kept_vol", "ams"))
	require.NoError(t, err)
	m, err := e.client.Launch(ctx, "kept-vol", livebookMachine(mounted(v.ID)))
	require.NoError(t, err)
	e.srv.Close()
	require.NoError(t, e.sim.Close())

	sim, err := flysim.New(flysim.Options{DataDir: dir, Clock: clock.Now, Token: testToken, Profile: strictOnly()})
	require.NoError(t, err)
	srv := httptest.NewServer(sim)
	t.Cleanup(func() { srv.Close(); require.NoError(t, sim.Close()) })
	c := newClient(t, srv, testToken)
	got, err := c.GetVolume(ctx, "kept-vol", v.ID)
	require.NoError(t, err)
	assert.Equal(t, v.Name, got.Name)
	require.True(t, got.IsAttached())
	assert.Equal(t, m.ID, *got.AttachedMachine)
	assert.Equal(t, 1, sim.VolumeCount("kept-vol"))
}
