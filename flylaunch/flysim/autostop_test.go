package flysim_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/sealkit/sealkit/internal/fakeclock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// proxied is a mod of livebookMachine whose service lets Fly's proxy stop
// the machine when idle (mode) and start it on a request (start), keeping
// keep machines running.
func proxied(mode fly.MachineAutostop, start bool, keep int) func(*fly.MachineConfig) {
	return func(c *fly.MachineConfig) {
		for i := range c.Services {
			c.Services[i].Autostop, c.Services[i].Autostart, c.Services[i].MinMachinesRunning = &mode, &start, &keep
		}
		c.Restart = &fly.MachineRestart{Policy: fly.MachineRestartPolicyOnFailure}
	}
}

// autostopProfile is strictOnly with the proxy's idle stop.
func autostopProfile() flysim.Profile {
	p := strictOnly()
	p.AutostopIdle = 5 * time.Minute
	return p
}

// testAutostop: a started machine whose service says autostop "stop" is
// stopped once the app had no request through its URL for the idle
// period, counted from the later of its start and its last request;
// "suspend" suspends; autostop "off" and min_machines_running keep
// machines started.
func testAutostop(t *testing.T) {
	e := newEnv(t, flysim.Options{Profile: autostopProfile()})
	ctx := ctxT(t)
	stop := strictApp(t, e, "idle-stop", goodPassword, livebookMachine(proxied(fly.MachineAutostopStop, true, 0)))
	susp := strictApp(t, e, "idle-suspend", goodPassword, livebookMachine(proxied(fly.MachineAutostopSuspend, true, 0)))
	off := strictApp(t, e, "idle-off", goodPassword, livebookMachine(proxied(fly.MachineAutostopOff, true, 0)))
	kept := strictApp(t, e, "idle-kept", goodPassword, livebookMachine(proxied(fly.MachineAutostopStop, true, 1)))
	start := e.clock.Now()

	// Started at 20 s; a request at 2 min moves the idle period on.
	assert.Equal(t, "started", at(t, e, start, 2*time.Minute, "idle-stop", stop.ID).State)
	status, _ := livebookGet(t, e, "/livebook/idle-stop/public/health")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "started", at(t, e, start, 6*time.Minute, "idle-stop", stop.ID).State, "a request at 2 min keeps it up")
	got := at(t, e, start, 7*time.Minute+time.Second, "idle-stop", stop.ID)
	assert.Equal(t, "stopped", got.State, "5 idle minutes after the request")
	ev := got.GetLatestEventOfType("exit")
	require.NotNil(t, ev)
	assert.True(t, ev.Request.ExitEvent.RequestedStop, "a stop the proxy asked for, not a crash")

	assert.Equal(t, "suspended", at(t, e, start, 8*time.Minute, "idle-suspend", susp.ID).State)
	assert.Equal(t, "started", at(t, e, start, time.Hour, "idle-off", off.ID).State)
	assert.Equal(t, "started", at(t, e, start, time.Hour, "idle-kept", kept.ID).State, "min_machines_running 1")

	list, err := e.client.List(ctx, "idle-stop", "")
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "stopped", list[0].State, "lists agree")
	require.NoError(t, e.client.Wait(ctx, "idle-stop", stop.ID, flaps.WithWaitStates("stopped"), flaps.WithWaitTimeout(time.Second)))
}

// testAutostart: a request through the app's URL starts its stopped
// machine whose service autostarts and is answered once the machine
// serves, holding it meanwhile; a machine that does not autostart leaves
// the request a 503.
func testAutostart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim, c := newBubbleEnv(t, flysim.Options{Profile: autostopProfile(), Speed: 10})
		ctx := t.Context()
		get := func(path string) (int, time.Duration) {
			began := time.Now()
			rec := httptest.NewRecorder()
			sim.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			return rec.Code, time.Since(began)
		}
		for app, auto := range map[string]bool{"wakes": true, "sleeps": false} {
			_, err := c.CreateApp(ctx, flaps.CreateAppRequest{Name: app, Org: "personal"})
			require.NoError(t, err)
			_, err = c.SetAppSecret(ctx, app, "LIVEBOOK_PASSWORD", goodPassword)
			require.NoError(t, err)
			m, err := c.Launch(ctx, app, livebookMachine(proxied(fly.MachineAutostopStop, auto, 0)))
			require.NoError(t, err)
			time.Sleep(3 * time.Second) // 30 s simulated: started
			status, _ := get("/livebook/" + app + "/public/health")
			require.Equal(t, http.StatusOK, status)
			require.NoError(t, c.Stop(ctx, app, fly.StopMachineInput{ID: m.ID}, ""))
			time.Sleep(time.Second)
			got, err := c.Get(ctx, app, m.ID)
			require.NoError(t, err)
			require.Equal(t, "stopped", got.State)

			status, took := get("/livebook/" + app + "/")
			got, err = c.Get(ctx, app, m.ID)
			require.NoError(t, err)
			if !auto {
				assert.Equal(t, http.StatusServiceUnavailable, status)
				assert.Equal(t, "stopped", got.State)
				continue
			}
			assert.Equal(t, http.StatusOK, status, "answered once started")
			assert.GreaterOrEqual(t, took, 2*time.Second, "held while the machine booted (20 s simulated)")
			assert.Equal(t, "started", got.State)
			ev := got.GetLatestEventOfType("start")
			require.NotNil(t, ev)
		}
		assert.Equal(t, 2, sim.Calls()["POST /v1/apps/{app}/machines/{id}/stop"])
		assert.Zero(t, sim.Calls()["POST /v1/apps/{app}/machines/{id}/start"], "the proxy started it, not the API")
	})
}

// TestAutostopSurvivesRestart: the last request through the proxy is part
// of the state, so a restarted simulator stops the machine at the same
// moment.
func TestAutostopSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	clock := fakeclock.At(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	e := newEnv(t, flysim.Options{DataDir: dir, Clock: clock.Now, Profile: autostopProfile()})
	e.clock = clock
	m := strictApp(t, e, "restarted", goodPassword, livebookMachine(proxied(fly.MachineAutostopStop, true, 0)))
	start := clock.Now()
	clock.Set(start.Add(2 * time.Minute))
	status, _ := livebookGet(t, e, "/livebook/restarted/")
	require.Equal(t, http.StatusOK, status)
	e.srv.Close()
	require.NoError(t, e.sim.Close())

	e2 := newEnv(t, flysim.Options{DataDir: dir, Clock: clock.Now, Profile: autostopProfile()})
	e2.clock = clock
	assert.Equal(t, "started", at(t, e2, start, 6*time.Minute, "restarted", m.ID).State)
	assert.Equal(t, "stopped", at(t, e2, start, 7*time.Minute+time.Second, "restarted", m.ID).State)
}
