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

const goodPassword = "sixteen-chars-pw"

// strictOnly is a profile with strict machines and no propagation
// windows, so one behaviour is tested at a time.
func strictOnly() flysim.Profile { return flysim.Profile{Name: "strict", StrictMachines: true} }

// livebookMachine is a launch like flylaunch's: a Livebook image, a service
// on internal port 8080 behind 80/443, an HTTP check on /public/health with
// a 10 s grace period, restart policy always.
func livebookMachine(mod ...func(*fly.MachineConfig)) fly.LaunchMachineInput {
	port, get, typ, path, proto := 8080, "GET", "http", "/public/health", "http"
	c := &fly.MachineConfig{
		Image:    "ghcr.io/livebook-dev/livebook:0.14.5",
		Env:      map[string]string{"LIVEBOOK_IP": "::"},
		Metadata: map[string]string{"sealkit_launch": "abc123"},
		Services: []fly.MachineService{{
			Protocol: "tcp", InternalPort: 8080,
			Ports: []fly.MachinePort{{Port: &[]int{80}[0], Handlers: []string{"http"}}, {Port: &[]int{443}[0], Handlers: []string{"tls", "http"}}},
		}},
		Checks: map[string]fly.MachineCheck{"livebook": {
			Type: &typ, Port: &port, HTTPMethod: &get, HTTPPath: &path, HTTPProtocol: &proto,
			GracePeriod: &fly.Duration{Duration: 10 * time.Second},
		}},
		Restart: &fly.MachineRestart{Policy: fly.MachineRestartPolicyAlways},
	}
	for _, m := range mod {
		m(c)
	}
	return fly.LaunchMachineInput{Region: "ams", Config: c}
}

// strictApp creates an app with LIVEBOOK_PASSWORD set to password ("" for
// none) and launches in on it, returning the machine.
func strictApp(t *testing.T, e *env, app, password string, in fly.LaunchMachineInput) *fly.Machine {
	t.Helper()
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: app, Org: "personal"})
	require.NoError(t, err)
	if password != "" {
		_, err = e.client.SetAppSecret(ctx, app, "LIVEBOOK_PASSWORD", password)
		require.NoError(t, err)
	}
	m, err := e.client.Launch(ctx, app, in)
	require.NoError(t, err)
	return m
}

// at moves the clock to simulated d after start and gets the machine.
func at(t *testing.T, e *env, start time.Time, d time.Duration, app, id string) *fly.Machine {
	t.Helper()
	e.clock.Set(start.Add(d))
	m, err := e.client.Get(ctxT(t), app, id)
	require.NoError(t, err)
	return m
}

func checkStatus(m *fly.Machine) fly.ConsulCheckStatus {
	if len(m.Checks) == 0 {
		return ""
	}
	return m.Checks[0].Status
}

// testStrictHealth: the checks pass only when the image is one flysim
// knows, the service's internal port and the check's port are the port
// Livebook listens on (LIVEBOOK_PORT, default 8080), and an HTTP check asks
// for /public/health; a bad port or path leaves them critical for good and
// the machine started.
func testStrictHealth(t *testing.T) {
	setPort := func(p int) func(*fly.MachineConfig) {
		return func(c *fly.MachineConfig) {
			c.Services[0].InternalPort = p
			chk := c.Checks["livebook"]
			chk.Port = &p
			c.Checks["livebook"] = chk
		}
	}
	setPath := func(p string) func(*fly.MachineConfig) {
		return func(c *fly.MachineConfig) {
			chk := c.Checks["livebook"]
			chk.HTTPPath = &p
			c.Checks["livebook"] = chk
		}
	}
	env := func(k, v string) func(*fly.MachineConfig) { return func(c *fly.MachineConfig) { c.Env[k] = v } }
	tests := []struct {
		name    string
		in      fly.LaunchMachineInput
		pass    bool
		output  string
		proxied bool // the service reaches Livebook
	}{
		{"flylaunch's config", livebookMachine(), true, "Success", true},
		{"Docker Hub image", livebookMachine(func(c *fly.MachineConfig) { c.Image = "livebook/livebook:latest" }), true, "Success", true},
		{"port from LIVEBOOK_PORT", livebookMachine(env("LIVEBOOK_PORT", "9090"), setPort(9090)), true, "Success", true},
		{"internal port Livebook does not listen on", livebookMachine(setPort(4000)), false, ":4000: connect: connection refused", false},
		{"LIVEBOOK_PORT elsewhere", livebookMachine(env("LIVEBOOK_PORT", "9090")), false, ":8080: connect: connection refused", false},
		{"service port wrong, check port right", livebookMachine(func(c *fly.MachineConfig) { c.Services[0].InternalPort = 80 }), false, ":80: connect: connection refused", false},
		{"path behind login", livebookMachine(setPath("/health")), false, "302", true},
		{"unknown public path", livebookMachine(setPath("/public/healthz")), false, "404", true},
		{"https to a plain HTTP port", livebookMachine(func(c *fly.MachineConfig) {
			chk := c.Checks["livebook"]
			chk.HTTPProtocol = &[]string{"https"}[0]
			c.Checks["livebook"] = chk
		}), false, "tls", true},
		{"tcp check on the right port", livebookMachine(func(c *fly.MachineConfig) {
			chk := c.Checks["livebook"]
			chk.Type = &[]string{"tcp"}[0]
			c.Checks["livebook"] = chk
		}), true, "Success", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, flysim.Options{Profile: strictOnly()})
			m := strictApp(t, e, "health", goodPassword, tt.in)
			start := e.clock.Now()
			got := at(t, e, start, 44*time.Second, "health", m.ID)
			assert.Equal(t, "started", got.State)
			assert.Equal(t, fly.ConsulCheckStatus("critical"), checkStatus(got), "still in the grace period")
			got = at(t, e, start, 45*time.Second, "health", m.ID)
			got2 := at(t, e, start, time.Hour, "health", m.ID)
			assert.Equal(t, "started", got2.State)
			require.Len(t, got2.Checks, 1)
			assert.Contains(t, got2.Checks[0].Output, tt.output)
			if tt.pass {
				assert.Equal(t, fly.Passing, checkStatus(got))
				assert.True(t, got2.AllHealthChecks().AllPassing())
			} else {
				assert.Equal(t, fly.ConsulCheckStatus("critical"), checkStatus(got2))
				assert.False(t, got2.AllHealthChecks().AllPassing())
			}
			status, _ := livebookGet(t, e, "/livebook/health/public/health")
			assert.Equal(t, map[bool]int{true: http.StatusOK, false: http.StatusServiceUnavailable}[tt.proxied], status)
		})
	}
}

// testUnknownImage: an image flysim cannot run is created, then
// launch_failed, then destroyed, as Fly's docs say of launch_failed.
func testUnknownImage(t *testing.T) {
	e := newEnv(t, flysim.Options{Profile: strictOnly()})
	m := strictApp(t, e, "no-image", goodPassword, livebookMachine(func(c *fly.MachineConfig) { c.Image = "nginx:latest" }))
	start := e.clock.Now()
	for _, tt := range []struct {
		after time.Duration
		state string
	}{{0, "created"}, {2 * time.Second, "launch_failed"}, {31 * time.Second, "launch_failed"}, {32 * time.Second, "destroyed"}} {
		got := at(t, e, start, tt.after, "no-image", m.ID)
		assert.Equal(t, tt.state, got.State, "after %v", tt.after)
		if tt.state != "destroyed" {
			assert.Equal(t, fly.ConsulCheckStatus("critical"), checkStatus(got))
		}
	}
	got := at(t, e, start, 5*time.Second, "no-image", m.ID)
	ev := got.GetLatestEventOfType("launch")
	require.NotNil(t, ev)
	assert.Equal(t, "failed", ev.Status)
	err := e.client.Wait(ctxT(t), "no-image", m.ID, flaps.WithWaitStates("started"), flaps.WithWaitTimeout(time.Second))
	requireFlapsError(t, err, http.StatusRequestTimeout)
	require.NoError(t, e.client.Wait(ctxT(t), "no-image", m.ID, flaps.WithWaitStates("launch_failed"), flaps.WithWaitTimeout(time.Second)))

	e.clock.Set(start.Add(time.Minute))
	machines, _, _ := e.sim.Counts("no-image")
	assert.Zero(t, machines)
	list, err := e.client.List(ctxT(t), "no-image", "")
	require.NoError(t, err)
	assert.Empty(t, list)
	status, _ := livebookGet(t, e, "/livebook/no-image/public/health")
	assert.Equal(t, http.StatusServiceUnavailable, status)
}

// testFailedUpdate: an update (or start) to an image flysim cannot run
// shows replacing, then failed, and stays failed; updating back recovers.
func testFailedUpdate(t *testing.T) {
	e := newEnv(t, flysim.Options{Profile: strictOnly()})
	ctx := ctxT(t)
	m := strictApp(t, e, "upd", goodPassword, livebookMachine())
	e.clock.Advance(time.Minute)
	bad := livebookMachine(func(c *fly.MachineConfig) { c.Image = "registry.fly.io/nope:deployment-1" })
	bad.ID = m.ID
	up, err := e.client.Update(ctx, "upd", bad, "")
	require.NoError(t, err)
	assert.Equal(t, "replacing", up.State)
	start := e.clock.Now()
	assert.Equal(t, "failed", at(t, e, start, 2*time.Second, "upd", m.ID).State)
	assert.Equal(t, "failed", at(t, e, start, time.Hour, "upd", m.ID).State)

	res, err := e.client.Start(ctx, "upd", m.ID, "")
	require.NoError(t, err)
	assert.Equal(t, "failed", res.PreviousState)
	start = e.clock.Now()
	assert.Equal(t, "starting", at(t, e, start, time.Second, "upd", m.ID).State)
	assert.Equal(t, "failed", at(t, e, start, 3*time.Second, "upd", m.ID).State)

	good := livebookMachine()
	good.ID = m.ID
	_, err = e.client.Update(ctx, "upd", good, "")
	require.NoError(t, err)
	start = e.clock.Now()
	assert.Equal(t, "replacing", at(t, e, start, time.Second, "upd", m.ID).State)
	assert.Equal(t, "starting", at(t, e, start, 3*time.Second, "upd", m.ID).State)
	got := at(t, e, start, time.Minute, "upd", m.ID)
	assert.Equal(t, "started", got.State)
	assert.True(t, got.AllHealthChecks().AllPassing())
}

// testCrashLoop: a Livebook that refuses to start (no password, a short
// one, a bad LIVEBOOK_PORT) exits 3 s after every start; the restart
// policy decides what follows, and the exit events carry what flyctl's
// isConstantlyRestarting reads.
func testCrashLoop(t *testing.T) {
	policy := func(p fly.MachineRestartPolicy, retries int) func(*fly.MachineConfig) {
		return func(c *fly.MachineConfig) { c.Restart = &fly.MachineRestart{Policy: p, MaxRetries: retries} }
	}
	tests := []struct {
		name     string
		password string
		in       fly.LaunchMachineInput
		stopsAt  time.Duration // 0: never
	}{
		{"no password, always", "", livebookMachine(), 0},
		{"11-character password, always", "eleven-char", livebookMachine(), 0},
		{"bad LIVEBOOK_PORT, always", goodPassword, livebookMachine(func(c *fly.MachineConfig) { c.Env["LIVEBOOK_PORT"] = "http" }), 0},
		{"short password, no", "short", livebookMachine(policy(fly.MachineRestartPolicyNo, 0)), 23 * time.Second},
		{"short password, on-failure 2 retries", "short", livebookMachine(policy(fly.MachineRestartPolicyOnFailure, 2)), 33 * time.Second},
		{"short password, on-failure default", "short", livebookMachine(policy(fly.MachineRestartPolicyOnFailure, 0)), 73 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, flysim.Options{Profile: strictOnly()})
			m := strictApp(t, e, "crash", tt.password, tt.in)
			start := e.clock.Now()
			got := at(t, e, start, 21*time.Second, "crash", m.ID)
			assert.Equal(t, "started", got.State)
			assert.Equal(t, fly.ConsulCheckStatus("critical"), checkStatus(got))
			want := "starting" // exited, being restarted
			if tt.stopsAt == 23*time.Second {
				want = "stopped"
			}
			assert.Equal(t, want, at(t, e, start, 24*time.Second, "crash", m.ID).State)
			if tt.stopsAt == 0 {
				got = at(t, e, start, time.Hour, "crash", m.ID)
				assert.Equal(t, fly.ConsulCheckStatus("critical"), checkStatus(got), "never healthy")
			}
			if tt.stopsAt > 0 {
				assert.NotEqual(t, "stopped", at(t, e, start, tt.stopsAt-time.Millisecond, "crash", m.ID).State)
				got = at(t, e, start, tt.stopsAt, "crash", m.ID)
				assert.Equal(t, "stopped", got.State)
				assert.Equal(t, "stopped", at(t, e, start, 10*time.Hour, "crash", m.ID).State)
			} else {
				got = at(t, e, start, 10*time.Hour+21*time.Second, "crash", m.ID)
				assert.Equal(t, "started", got.State, "restarted forever")
			}
			exit := got.GetLatestEventOfType("exit")
			require.NotNil(t, exit)
			require.NotNil(t, exit.Request)
			require.NotNil(t, exit.Request.ExitEvent)
			assert.Equal(t, 1, exit.Request.ExitEvent.ExitCode)
			assert.False(t, exit.Request.ExitEvent.RequestedStop)
			assert.Equal(t, tt.stopsAt == 0, exit.Request.ExitEvent.Restarting)
			if tt.stopsAt != 23*time.Second {
				assert.Greater(t, exit.Request.RestartCount, 1, "what flyctl calls constantly restarting")
			}
			status, _ := livebookGet(t, e, "/livebook/crash/public/health")
			assert.Equal(t, http.StatusServiceUnavailable, status)
		})
	}
}

// testStopAndSuspend: a stop takes the Profile's Stopping window
// (stopping, then stopped); a suspend likewise (suspending, suspended); a
// start resumes either.
func testStopAndSuspend(t *testing.T) {
	prof := strictOnly()
	prof.Stopping = 2 * time.Second
	e := newEnv(t, flysim.Options{Profile: prof})
	ctx := ctxT(t)
	m := strictApp(t, e, "halt", goodPassword, livebookMachine())
	e.clock.Advance(time.Minute)

	require.NoError(t, e.client.Stop(ctx, "halt", fly.StopMachineInput{ID: m.ID}, ""))
	start := e.clock.Now()
	assert.Equal(t, "stopping", at(t, e, start, time.Second, "halt", m.ID).State)
	got := at(t, e, start, 2*time.Second, "halt", m.ID)
	assert.Equal(t, "stopped", got.State)
	assert.Empty(t, got.Checks)
	ev := got.GetLatestEventOfType("exit")
	require.NotNil(t, ev)
	assert.True(t, ev.Request.ExitEvent.RequestedStop)

	res, err := e.client.Start(ctx, "halt", m.ID, "")
	require.NoError(t, err)
	assert.Equal(t, "stopped", res.PreviousState)
	start = e.clock.Now()
	assert.Equal(t, "starting", at(t, e, start, time.Second, "halt", m.ID).State)
	assert.Equal(t, "started", at(t, e, start, 20*time.Second, "halt", m.ID).State)

	require.NoError(t, e.client.Suspend(ctx, "halt", m.ID, ""))
	start = e.clock.Now()
	assert.Equal(t, "suspending", at(t, e, start, time.Second, "halt", m.ID).State)
	assert.Equal(t, "suspended", at(t, e, start, 3*time.Second, "halt", m.ID).State)
	require.NoError(t, e.client.Destroy(ctx, "halt", fly.RemoveMachineInput{ID: m.ID}, ""), "a suspended machine is idle")
}
