package flylaunch

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/flylaunch/flysim"
)

// volumeHostProfile is flysim's realistic profile with every volume created
// without a compute hint on a host without room for a machine.
func volumeHostProfile() flysim.Profile {
	p := flysim.Realistic()
	p.VolumeHostFullRate = 1
	return p
}

// TestVolumeLandsWhereTheMachineFits is issue 18's item 3: a volume pins
// its machine to its host. The launch sends the machine's guest and image
// with the volume's create, so the volume lands where the machine fits; a
// machine refused for capacity on the launch's own fresh volume moves to a
// new volume (the refused one deleted), a bounded number of times; giving
// up leaves no volume behind and no record pointing at a deleted one, so a
// resume creates a new volume. Each case ends with one machine and one
// attached volume, and no unattached volume left.
func TestVolumeLandsWhereTheMachineFits(t *testing.T) {
	cases := []struct {
		name string
		full int // volumes whose host fills up before the machine comes
		// gaveUp: the launch ends with ErrNoCapacity (a resume then
		// succeeds once hosts have room).
		gaveUp bool
	}{
		{"the hint places the volume", 0, false},
		{"the host filled up, once", 1, false},
		{"the host filled up, twice", 2, false},
		{"every host is full", 100, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newSimEnv(t, envOptions{speed: 200, profile: volumeHostProfile()})
			e.sim.FillVolumeHosts(tc.full)
			spec := testSpec("placed-livebook")
			l := e.launcher(t)
			d, err := l.Start(waitCtx(t), spec)
			require.NoError(t, err)
			res, err := d.Wait(waitCtx(t))
			if tc.gaveUp {
				require.ErrorIs(t, err, ErrNoCapacity)
				rec := d.Record()
				assert.Empty(t, rec.VolumeID, "the record names no deleted volume")
				assert.Zero(t, e.sim.VolumeCount(spec.App), "no unattached volume left")
				for _, v := range e.sim.Volumes(spec.App) {
					assert.True(t, v.Deleted, v.ID)
				}
				e.sim.FillVolumeHosts(0)
				d, err = l.Resume(waitCtx(t), spec, rec)
				require.NoError(t, err)
				res, err = d.Wait(waitCtx(t))
			}
			require.NoError(t, err)
			assertOneOfEach(t, e, spec.App)

			// What flysim received: every volume was created with the
			// machine's guest and image, and the one kept is the one the
			// machine mounts.
			guest, err := spec.withDefaults().guest()
			require.NoError(t, err)
			vols := e.sim.Volumes(spec.App)
			if !tc.gaveUp {
				assert.Len(t, vols, tc.full+1, "one new volume per refusal")
			}
			kept := ""
			for _, v := range vols {
				assert.Equal(t, guest.CPUs, v.ComputeCPUs, v.ID)
				assert.Equal(t, guest.MemoryMB, v.ComputeMemoryMB, v.ID)
				assert.Equal(t, spec.withDefaults().Image, v.ComputeImage, v.ID)
				if !v.Deleted {
					kept = v.ID
				}
			}
			assert.Equal(t, kept, res.Record.VolumeID)
			m, err := e.client.Get(waitCtx(t), spec.App, res.Record.MachineID)
			require.NoError(t, err)
			require.Len(t, m.Config.Mounts, 1)
			assert.Equal(t, kept, m.Config.Mounts[0].Volume)
		})
	}
}
