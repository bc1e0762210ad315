package flylaunch

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	fly "github.com/superfly/fly-go"

	"github.com/sealkit/sealkit/flylaunch/flysim"
)

// livebookOf is l's Livebook of rec.
func livebookOf(t *testing.T, l *Launcher, rec Record) *Livebook {
	t.Helper()
	b, err := l.Livebook(rec)
	require.NoError(t, err)
	return b
}

// TestStatusStopStart drives a finished launch's Livebook through
// fly-go against the simulator: Status reads it, Stop stops it and Start
// starts it, each repeatable, and the password still logs in afterwards.
func TestStatusStopStart(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	spec := testSpec("managed-livebook")
	rec := launchToDone(t, e, spec)
	l := e.launcher(t)
	b := livebookOf(t, l, rec)

	st, err := b.Status(waitCtx(t))
	require.NoError(t, err)
	assert.Contains(t, []LaunchState{StateRunning, StateStopped}, st.State, "Fly's proxy may have stopped it, idle")
	assert.Equal(t, rec.MachineID, st.MachineID)
	assert.Equal(t, "https://managed-livebook.fly.dev", st.URL)

	for range 2 {
		st, err = b.Stop(waitCtx(t))
		require.NoError(t, err)
		assert.Equal(t, StateStopped, st.State)
		assert.Equal(t, fly.MachineStateStopped, st.MachineState)
	}
	st, err = b.Status(waitCtx(t))
	require.NoError(t, err)
	assert.Equal(t, StateStopped, st.State)
	m, err := e.client.Get(waitCtx(t), spec.App, rec.MachineID)
	require.NoError(t, err)
	assert.Equal(t, fly.MachineStateStopped, m.State, "Fly agrees")

	for range 2 {
		st, err = b.Start(waitCtx(t))
		require.NoError(t, err)
		assert.Equal(t, StateRunning, st.State)
	}
	assert.Equal(t, 1, e.sim.Calls()["POST /v1/apps/{app}/machines/{id}/start"], "a started machine is not started again")
	assert.Equal(t, http.StatusOK, login(t, e, spec.App, testPassword))
	assertOneOfEach(t, e, spec.App)
}

// TestAutostopAndAutostart: left alone, a launched Livebook is stopped by
// Fly's proxy once idle (the simulator's five minutes), as Status shows,
// and the next request to its URL starts it again before it is answered.
func TestAutostopAndAutostart(t *testing.T) {
	// At speed 100 the proxy's 5 idle minutes are 3 s of real time: the
	// reads after the login that starts the machine again happen well
	// within them, even on a loaded machine.
	e := newSimEnv(t, envOptions{speed: 100})
	spec := testSpec("idle-livebook")
	rec := launchToDone(t, e, spec)
	b := livebookOf(t, e.launcher(t), rec)

	idle := time.Duration(float64(6*time.Minute) / e.speed)
	time.Sleep(idle)
	st, err := b.Status(waitCtx(t))
	require.NoError(t, err)
	assert.Equal(t, StateStopped, st.State, "stopped by the proxy, idle")
	assert.Zero(t, e.sim.Calls()["POST /v1/apps/{app}/machines/{id}/stop"], "nobody asked it to")

	assert.Equal(t, http.StatusOK, login(t, e, spec.App, testPassword), "a request starts it and is answered")
	st, err = b.Status(waitCtx(t))
	require.NoError(t, err)
	assert.Equal(t, StateRunning, st.State)
	assert.Zero(t, e.sim.Calls()["POST /v1/apps/{app}/machines/{id}/start"], "the proxy started it")
}

// TestDeleteRemovesTheLaunch: Delete removes the machine, volume, app and
// its addresses; afterwards Status says gone, Stop and Start end with
// ErrGone, and Delete again does nothing.
func TestDeleteRemovesTheLaunch(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	spec := testSpec("deleted-livebook")
	rec := launchToDone(t, e, spec)
	b := livebookOf(t, e.launcher(t), rec)

	require.NoError(t, b.Delete(waitCtx(t)))
	machines, ips, exists := e.sim.Counts(spec.App)
	assert.False(t, exists)
	assert.Zero(t, machines+ips+e.sim.VolumeCount(spec.App))

	st, err := b.Status(waitCtx(t))
	require.NoError(t, err)
	assert.Equal(t, StateGone, st.State)
	_, err = b.Stop(waitCtx(t))
	require.ErrorIs(t, err, ErrGone)
	_, err = b.Start(waitCtx(t))
	require.ErrorIs(t, err, ErrGone)
	before := e.sim.Calls()
	require.NoError(t, b.Delete(waitCtx(t)))
	assert.Zero(t, mutations(callsSince(e, before)), "nothing left to delete")
	assert.Equal(t, http.StatusNotFound, login(t, e, spec.App, testPassword))
}

// TestDeleteKeepsAVolumeAnotherMachineHolds: the launch's volume, once
// the user mounted it on a machine of their own, stays, and so does the
// app; the launch's machine goes.
func TestDeleteKeepsAVolumeAnotherMachineHolds(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	spec := testSpec("adopted-volume")
	rec := launchToDone(t, e, spec)
	require.NoError(t, e.client.Destroy(waitCtx(t), spec.App, fly.RemoveMachineInput{ID: rec.MachineID, Kill: true}, ""))
	var mine *fly.Machine
	require.Eventually(t, func() bool {
		var err error
		mine, err = e.client.Launch(waitCtx(t), spec.App, fly.LaunchMachineInput{Region: "ams", Config: &fly.MachineConfig{
			Image: DefaultImage, Mounts: []fly.MachineMount{{Volume: rec.VolumeID, Path: "/data"}},
		}})
		return err == nil
	}, 5*time.Second, 5*time.Millisecond, "the volume frees up once the machine is destroyed")

	err := livebookOf(t, e.launcher(t), rec).Delete(waitCtx(t))
	require.ErrorIs(t, err, ErrAppKept)
	assert.Equal(t, 1, e.sim.VolumeCount(spec.App), "the volume the user's machine holds stays")
	assert.True(t, machineExists(t, e, spec.App, mine.ID))
	assert.Zero(t, e.sim.Calls()["DELETE /v1/apps/{app}/volumes/{id}"])
}

// TestRecordWithoutVolumeResumes: a record made before launches had a
// volume resumes sensibly. Past the launch step its machine runs on
// without one (nothing is added to a running machine); before it, the
// volume step runs and the machine mounts the new volume.
func TestRecordWithoutVolumeResumes(t *testing.T) {
	t.Run("past the launch", func(t *testing.T) {
		e := newSimEnv(t, envOptions{})
		spec := testSpec("old-launch")
		rec := interruptAt(t, e, spec, StepIPs, false)
		// The machine an older flylaunch launched: no volume.
		in, err := launchInput(spec.withDefaults(), rec.LaunchID, rec.SecretsVersion, "")
		require.NoError(t, err)
		m, err := e.client.Launch(waitCtx(t), spec.App, in)
		require.NoError(t, err)
		rec.Step, rec.MachineID = StepLaunch, m.ID
		require.NoError(t, rec.Validate())

		done := resumeToDone(t, e, spec, rec)
		assert.Empty(t, done.VolumeID)
		assert.Zero(t, e.sim.Calls()["POST /v1/apps/{app}/volumes"])
		assert.Zero(t, e.sim.VolumeCount(spec.App))
		got, err := e.client.Get(waitCtx(t), spec.App, m.ID)
		require.NoError(t, err)
		assert.Empty(t, got.Config.Mounts)
		assert.Equal(t, http.StatusOK, login(t, e, spec.App, testPassword))
		require.NoError(t, deleteLaunch(waitCtx(t), e.launcher(t), done))
	})
	t.Run("before the launch", func(t *testing.T) {
		e := newSimEnv(t, envOptions{})
		spec := testSpec("old-record")
		rec := interruptAt(t, e, spec, StepIPs, false)
		done := resumeToDone(t, e, spec, rec)
		require.NotEmpty(t, done.VolumeID)
		assertOneOfEach(t, e, spec.App)
		got, err := e.client.Get(waitCtx(t), spec.App, done.MachineID)
		require.NoError(t, err)
		assert.Equal(t, []fly.MachineMount{{Volume: done.VolumeID, Path: "/data"}}, got.Config.Mounts)
	})
}

// TestResumedDeployStartsAStoppedMachine: a deploy resumed after its
// machine was stopped (Fly's proxy stops an idle one) starts it again and
// reaches healthy, where it used to wait for "started" until the start
// deadline.
func TestResumedDeployStartsAStoppedMachine(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	spec := testSpec("woken-livebook")
	rec := interruptAt(t, e, spec, StepLaunch, false)
	require.Eventually(t, func() bool {
		return e.client.Stop(waitCtx(t), spec.App, fly.StopMachineInput{ID: rec.MachineID}, "") == nil
	}, 5*time.Second, 5*time.Millisecond)

	done := resumeToDone(t, e, spec, rec)
	assert.Equal(t, StepHealthy, done.Step)
	assert.Equal(t, 1, e.sim.Calls()["POST /v1/apps/{app}/machines/{id}/start"])
	assertOneOfEach(t, e, spec.App)
}

// TestHeldVolumeFindsTheLaunchsMachine: a resume whose machine list has
// not caught up launches again onto the launch's volume; Fly refuses it
// (412, the volume is attached) and the machine holding the volume, which
// carries the launch ID, becomes the deploy's: no second machine.
func TestHeldVolumeFindsTheLaunchsMachine(t *testing.T) {
	prof := flysim.Realistic()
	prof.ListLag = 10 * time.Minute // the list never catches up in this test
	e := newSimEnv(t, envOptions{profile: prof})
	spec := testSpec("held-volume")
	rec := interruptAt(t, e, spec, StepVolume, true) // the launch was applied
	done := resumeToDone(t, e, spec, rec)
	assert.Equal(t, 2, e.sim.Calls()["POST /v1/apps/{app}/machines"], "the second launch was refused")
	machines, _, _ := e.sim.Counts(spec.App)
	assert.Equal(t, 1, machines)
	assert.NotEmpty(t, done.MachineID)
}

// TestLivebookErrorsHaveNoStep: a Livebook call is not a deploy step, so
// the APIError it ends with names the call (Op) and no Step.
func TestLivebookErrorsHaveNoStep(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	rec := launchToDone(t, e, testSpec("stepless-livebook"))
	l := e.launcher(t, func(o *Options) { o.Retry.MaxAttempts = 2 })
	b := livebookOf(t, l, rec)
	e.sim.AddFault(flysim.Fault{Method: "GET", Path: "/v1/apps/{app}/machines", Status: http.StatusInternalServerError})
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"status", func() error { _, err := b.Status(waitCtx(t)); return err }},
		{"stop", func() error { _, err := b.Stop(waitCtx(t)); return err }},
		{"start", func() error { _, err := b.Start(waitCtx(t)); return err }},
		{"delete", func() error { return b.Delete(waitCtx(t)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ae *APIError
			require.ErrorAs(t, tc.call(), &ae)
			assert.Equal(t, Step(""), ae.Step)
			assert.Equal(t, "list machines", ae.Op)
			assert.Equal(t, http.StatusInternalServerError, ae.Status)
		})
	}
}
