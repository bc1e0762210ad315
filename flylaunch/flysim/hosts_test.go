package flysim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// hinted is volumeRequest with a compute hint for guest and image, as
// flyctl's deploy sends it.
func hinted(name, region string, guest *fly.MachineGuest, image string) fly.CreateVolumeRequest {
	in := volumeRequest(name, region)
	in.ComputeRequirements, in.ComputeImage = guest, image
	return in
}

// sized is a mod of livebookMachine that sets the guest.
func sized(cpus, memoryMB int) func(*fly.MachineConfig) {
	return func(c *fly.MachineConfig) {
		c.Guest = &fly.MachineGuest{CPUKind: "shared", CPUs: cpus, MemoryMB: memoryMB}
	}
}

// testVolumeHost: a volume created without a compute hint may land on a
// host without room for a machine, and every launch on it is refused with
// Fly's host-level 412; with a hint it lands on a host with room for the
// hinted guest, and a larger guest is refused.
func testVolumeHost(t *testing.T) {
	prof := strictOnly()
	prof.VolumeHostFullRate = 1
	guest := &fly.MachineGuest{CPUKind: "shared", CPUs: 1, MemoryMB: 1024}
	cases := []struct {
		name    string
		req     fly.CreateVolumeRequest
		machine func(*fly.MachineConfig)
		refused string // "" if the launch succeeds
		filled  bool   // the host fills up before the machine comes (FillVolumeHosts)
	}{
		{"no hint, host without room", volumeRequest("data", "ams"), sized(1, 1024), "insufficient memory", false},
		{"hint, the hinted guest", hinted("data", "ams", guest, "ghcr.io/livebook-dev/livebook:0.14.5"), sized(1, 1024), "", false},
		{"hint, a smaller guest", hinted("data", "ams", guest, ""), sized(1, 512), "", false},
		{"hint, more memory than hinted", hinted("data", "ams", guest, ""), sized(1, 2048), "insufficient memory", false},
		{"hint, more CPUs than hinted", hinted("data", "ams", guest, ""), sized(2, 1024), "insufficient CPUs", false},
		{"hint, the host filled up since", hinted("data", "ams", guest, ""), sized(1, 1024), "insufficient memory", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, flysim.Options{Profile: prof})
			if tc.filled {
				e.sim.FillVolumeHosts(1)
			}
			ctx := ctxT(t)
			_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "hosts", Org: "personal"})
			require.NoError(t, err)
			_, err = e.client.SetAppSecret(ctx, "hosts", "LIVEBOOK_PASSWORD", goodPassword)
			require.NoError(t, err)
			v, err := e.client.CreateVolume(ctx, "hosts", tc.req)
			require.NoError(t, err)
			info := e.sim.Volumes("hosts")
			require.Len(t, info, 1)
			assert.NotEmpty(t, info[0].Host)
			assert.Equal(t, tc.req.ComputeImage, info[0].ComputeImage)
			if tc.req.ComputeRequirements != nil {
				assert.Equal(t, []int{1, 1024}, []int{info[0].ComputeCPUs, info[0].ComputeMemoryMB})
			}

			for range 3 { // the host does not change: a retry is refused alike
				_, err = e.client.Launch(ctx, "hosts", livebookMachine(mounted(v.ID), tc.machine))
				if tc.refused == "" {
					require.NoError(t, err)
					break
				}
				fe := requireFlapsError(t, err, http.StatusPreconditionFailed)
				assert.Contains(t, string(fe.ResponseBody), "could not reserve resource for machine: "+tc.refused)
				if sc := fe.StatusCode(); sc != nil {
					assert.NotEqual(t, "insufficient_capacity", string(*sc), "a host without room, not a region")
				}
				e.clock.Advance(time.Minute)
			}
			machines, _, _ := e.sim.Counts("hosts")
			assert.Equal(t, map[bool]int{true: 1, false: 0}[tc.refused == ""], machines)
		})
	}
}

// testVolumeHostSeeded: which unhinted volumes land on a full host follows
// from the seed, so a run repeats; a hinted volume never does.
func testVolumeHostSeeded(t *testing.T) {
	prof := strictOnly()
	prof.VolumeHostFullRate = 0.5
	full := func(seed int64, hint *fly.MachineGuest) []bool {
		e := newEnv(t, flysim.Options{Profile: prof, Seed: seed})
		ctx := ctxT(t)
		_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "seeded", Org: "personal"})
		require.NoError(t, err)
		for range 16 {
			_, err := e.client.CreateVolume(ctx, "seeded", hinted("data", "ams", hint, ""))
			require.NoError(t, err)
		}
		var out []bool
		for _, v := range e.sim.Volumes("seeded") {
			out = append(out, v.HostFull)
		}
		return out
	}
	first := full(7, nil)
	assert.Equal(t, first, full(7, nil), "the same seed places alike")
	assert.Contains(t, first, true)
	assert.Contains(t, first, false)
	assert.NotContains(t, full(7, &fly.MachineGuest{CPUs: 1, MemoryMB: 256}), true)
}

// testBootTimings: a host pulls an image once, before the machine starts,
// and the first boot on a new volume sets it up before the machine is
// started; a restart on the same host and volume does neither.
func testBootTimings(t *testing.T) {
	prof := strictOnly()
	prof.ImagePull, prof.FreshVolumeBoot = 12*time.Second, 9*time.Second
	e := newEnv(t, flysim.Options{Profile: prof})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "boot", Org: "personal"})
	require.NoError(t, err)
	_, err = e.client.SetAppSecret(ctx, "boot", "LIVEBOOK_PASSWORD", goodPassword)
	require.NoError(t, err)
	v, err := e.client.CreateVolume(ctx, "boot", volumeRequest("data", "ams"))
	require.NoError(t, err)
	start := e.clock.Now()
	m, err := e.client.Launch(ctx, "boot", livebookMachine(mounted(v.ID)))
	require.NoError(t, err)

	// Plain boot: created until 2 s, starting until 20 s, checks passing
	// 15 s plus the 10 s grace later. Here 12 s of pull, then 9 s of
	// volume setup, come on top.
	steps := []struct {
		at    time.Duration
		state string
		check fly.ConsulCheckStatus
	}{
		{1 * time.Second, "created", "critical"},
		{13 * time.Second, "created", "critical"},
		{15 * time.Second, "starting", "critical"},
		{40 * time.Second, "starting", "critical"},
		{42 * time.Second, "started", "critical"},
		{65 * time.Second, "started", "critical"},
		{67 * time.Second, "started", fly.Passing},
	}
	for _, st := range steps {
		t.Run("first boot at "+st.at.String(), func(t *testing.T) {
			got := at(t, e, start, st.at, "boot", m.ID)
			assert.Equal(t, st.state, got.State)
			assert.Equal(t, st.check, checkStatus(got))
		})
	}

	require.NoError(t, e.client.Stop(ctx, "boot", fly.StopMachineInput{ID: m.ID}, ""))
	e.clock.Advance(time.Minute)
	restart := e.clock.Now()
	_, err = e.client.Start(ctx, "boot", m.ID, "")
	require.NoError(t, err)
	assert.Equal(t, "starting", at(t, e, restart, 19*time.Second, "boot", m.ID).State)
	assert.Equal(t, "started", at(t, e, restart, 21*time.Second, "boot", m.ID).State, "the image is on the host, the volume set up")
}

// testAssignIPOrg: the organization an address request names is recorded;
// a request without one is served too (Fly's own example sends none).
func testAssignIPOrg(t *testing.T) {
	cases := []struct {
		name, org string
	}{
		{"with the org", "personal"},
		{"without", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, flysim.Options{Profile: flysim.Realistic()})
			ctx := ctxT(t)
			_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "ips", Org: "personal"})
			require.NoError(t, err)
			e.clock.Advance(time.Minute)
			ip, err := e.client.AssignIP(ctx, "ips", flaps.AssignIPRequest{Type: "v6", Organization: tc.org})
			require.NoError(t, err)
			org, ok := e.sim.IPAssignmentOrg("ips", ip.IP)
			require.True(t, ok)
			assert.Equal(t, tc.org, org)
		})
	}
}
