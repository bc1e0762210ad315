package flysim_test

import (
	"testing"
	"time"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

func TestLifecycle(t *testing.T) {
	// Simulated timeline at Speed 1: starting at 2 s, started at 20 s, the
	// check (grace 5 s) passing 15 s + 5 s after that.
	tests := []struct {
		after  time.Duration
		state  string
		checks fly.ConsulCheckStatus // "" = no checks reported
		app    string
	}{
		{0, "created", "critical", "pending"},
		{1999 * time.Millisecond, "created", "critical", "pending"},
		{2 * time.Second, "starting", "critical", "pending"},
		{19 * time.Second, "starting", "critical", "pending"},
		{20 * time.Second, "started", "critical", "deployed"},
		{39 * time.Second, "started", "critical", "deployed"},
		{40 * time.Second, "started", "passing", "deployed"},
		{10 * time.Minute, "started", "passing", "deployed"},
	}
	for _, speed := range []float64{1, 10} {
		e := newEnv(t, flysim.Options{Speed: speed})
		ctx := ctxT(t)
		_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "life", Org: "personal"})
		require.NoError(t, err)
		m, err := e.client.Launch(ctx, "life", launchInput("iad"))
		require.NoError(t, err)
		start := e.clock.Now()
		for _, tt := range tests {
			t.Run(tt.after.String(), func(t *testing.T) {
				e.clock.Set(start.Add(time.Duration(float64(tt.after) / speed)))
				got, err := e.client.Get(ctx, "life", m.ID)
				require.NoError(t, err)
				assert.Equal(t, tt.state, got.State)
				require.Len(t, got.Checks, 1)
				assert.Equal(t, tt.checks, got.Checks[0].Status)
				app, err := e.client.GetApp(ctx, "life")
				require.NoError(t, err)
				assert.Equal(t, tt.app, app.Status)
				assert.Equal(t, int64(1), app.MachineCount)
				if tt.state == "started" {
					ev := got.GetLatestEventOfType("start")
					require.NotNil(t, ev)
					assert.Equal(t, "started", ev.Status)
					assert.Equal(t, start.Add(time.Duration(float64(20*time.Second)/speed)).UnixMilli(), ev.Timestamp)
				}
				assert.NotNil(t, got.GetLatestEventOfType("launch"))
			})
		}
	}
}

func TestLifecycleSkipLaunchThenStartStop(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "skip", Org: "personal"})
	require.NoError(t, err)
	in := launchInput("iad")
	in.SkipLaunch = true
	m, err := e.client.Launch(ctx, "skip", in)
	require.NoError(t, err)
	e.clock.Advance(time.Hour)
	got, err := e.client.Get(ctx, "skip", m.ID)
	require.NoError(t, err)
	assert.Equal(t, "created", got.State)
	assert.Empty(t, got.Checks)

	res, err := e.client.Start(ctx, "skip", m.ID, "")
	require.NoError(t, err)
	assert.Equal(t, "created", res.PreviousState)
	e.clock.Advance(20 * time.Second)
	require.NoError(t, e.client.Wait(ctx, "skip", m.ID, flaps.WithWaitTimeout(time.Second)))

	require.NoError(t, e.client.Stop(ctx, "skip", fly.StopMachineInput{ID: m.ID}, ""))
	got, err = e.client.Get(ctx, "skip", m.ID)
	require.NoError(t, err)
	assert.Equal(t, "stopped", got.State)
	assert.Empty(t, got.Checks)

	res, err = e.client.Start(ctx, "skip", m.ID, "")
	require.NoError(t, err)
	assert.Equal(t, "stopped", res.PreviousState)
	got, err = e.client.Get(ctx, "skip", m.ID)
	require.NoError(t, err)
	assert.Equal(t, "created", got.State)
	assert.NotEqual(t, m.InstanceID, got.InstanceID, "a restart is a new instance")
}

func TestLifecycleWaitWakesWhenClockMoves(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "wake", Org: "personal"})
	require.NoError(t, err)
	m, err := e.client.Launch(ctx, "wake", launchInput("iad"))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		done <- e.client.Wait(ctx, "wake", m.ID, flaps.WithWaitStates("started"), flaps.WithWaitTimeout(60*time.Second))
	}()
	e.clock.Advance(21 * time.Second)
	require.NoError(t, <-done)
}

func TestLifecycleUpdateRestarts(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "upd", Org: "personal"})
	require.NoError(t, err)
	m, err := e.client.Launch(ctx, "upd", launchInput("iad"))
	require.NoError(t, err)
	e.clock.Advance(time.Minute)
	in := launchInput("iad")
	in.ID = m.ID
	in.Config.Env["NEW"] = "1"
	up, err := e.client.Update(ctx, "upd", in, "")
	require.NoError(t, err)
	assert.Equal(t, "created", up.State)
	assert.Equal(t, "1", up.Config.Env["NEW"])
	assert.NotEqual(t, m.Version, up.Version)
	assert.Equal(t, m.Name, up.Name)
}

func TestLifecycleServiceChecks(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "svc", Org: "personal"})
	require.NoError(t, err)
	typ, port := "http", 9090
	m, err := e.client.Launch(ctx, "svc", fly.LaunchMachineInput{Config: &fly.MachineConfig{
		Image: "nginx",
		Services: []fly.MachineService{{
			Protocol: "tcp", InternalPort: 8080,
			Checks: []fly.MachineServiceCheck{{Type: &typ}, {Port: &port, GracePeriod: &fly.Duration{Duration: time.Minute}}},
		}},
	}})
	require.NoError(t, err)
	e.clock.Advance(35 * time.Second)
	got, err := e.client.Get(ctx, "svc", m.ID)
	require.NoError(t, err)
	require.Len(t, got.Checks, 2)
	assert.Equal(t, "servicecheck-00-http-8080", got.Checks[0].Name)
	assert.Equal(t, fly.Passing, got.Checks[0].Status)
	assert.Equal(t, "servicecheck-01-tcp-9090", got.Checks[1].Name)
	assert.Equal(t, fly.ConsulCheckStatus("critical"), got.Checks[1].Status, "still in its grace period")
	assert.False(t, got.AllHealthChecks().AllPassing())
	e.clock.Advance(time.Minute)
	got, err = e.client.Get(ctx, "svc", m.ID)
	require.NoError(t, err)
	assert.True(t, got.AllHealthChecks().AllPassing())
}
