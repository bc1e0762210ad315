package flylaunch

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	fly "github.com/superfly/fly-go"

	"github.com/sealkit/sealkit/flylaunch/flysim"
)

// interruptAt starts a deploy on a first Launcher and "crashes" it at
// boundary (the completion of that step; "" is before the first call of the
// first step): the connection is cut synchronously there, and with inFlight
// the next request still reaches Fly and is applied while the client only
// sees an error. It returns the record the caller held at that point.
func interruptAt(t *testing.T, e *simEnv, spec Spec, boundary Step, inFlight bool) Record {
	t.Helper()
	first := e.launcher(t)
	cut := make(chan (<-chan struct{}), 1)
	first.hook = func(ev Event) {
		hit := boundary == "" && ev.Seq == 1 || ev.Step == boundary && ev.Status == StatusCompleted
		if hit {
			cut <- e.gate.close(inFlight)
		}
	}
	d, err := first.Start(waitCtx(t), spec)
	require.NoError(t, err)
	applied := <-cut
	if inFlight && boundary != StepHealthy { // after the last step no call follows
		<-applied
	}
	require.NoError(t, first.Close())
	rec := d.Record()
	require.Equal(t, boundary, rec.Step)
	e.gate.open()
	return rec
}

func TestResumeFromEveryStepBoundary(t *testing.T) {
	boundaries := []Step{"", StepCreateApp, StepSecrets, StepIPs, StepVolume, StepLaunch, StepStarted, StepHealthy}
	for _, boundary := range boundaries {
		for _, inFlight := range []bool{false, true} {
			name := fmt.Sprintf("after %q", boundary)
			if inFlight {
				name += " with next call applied"
			}
			t.Run(name, func(t *testing.T) {
				e := newSimEnv(t, envOptions{})
				spec := testSpec("resumed-livebook")
				rec := interruptAt(t, e, spec, boundary, inFlight)
				if boundary == "" && !inFlight {
					// Interrupted before its app was created: a record
					// cannot tell that from an app deleted since, so the
					// resume ends and creates nothing (the name stays free).
					l := e.launcher(t)
					d, err := l.Resume(waitCtx(t), spec, rec)
					require.NoError(t, err)
					_, err = d.Wait(waitCtx(t))
					require.ErrorIs(t, err, ErrGone)
					assert.Zero(t, e.sim.Calls()["POST /v1/apps"])
					return
				}

				// A fresh Launcher, as after a server restart; resume twice
				// in a row to show resuming is repeatable.
				for range 2 {
					l := e.launcher(t)
					d, err := l.Resume(waitCtx(t), spec, rec)
					require.NoError(t, err)
					res, err := d.Wait(waitCtx(t))
					require.NoError(t, err)
					assert.Equal(t, "https://resumed-livebook.fly.dev", res.URL)
					assert.Equal(t, rec.LaunchID, res.Record.LaunchID)
					assertOneOfEach(t, e, spec.App)
					require.NoError(t, l.Close())
					rec = res.Record
				}
				calls := e.sim.Calls()
				assert.Equal(t, 1, calls["POST /v1/apps"], "the app is created once")
				// A resume that finds no machine for its launch ID (the list
				// lags) launches one; the duplicate is then destroyed. So
				// with volumes: one volume survives (assertOneOfEach).
				assert.LessOrEqual(t, calls["POST /v1/apps/{app}/machines"], 2)
				assert.LessOrEqual(t, calls["POST /v1/apps/{app}/volumes"], 2)
				m, err := e.client.Get(waitCtx(t), spec.App, rec.MachineID)
				require.NoError(t, err)
				assert.Equal(t, []fly.MachineMount{{Volume: rec.VolumeID, Path: "/data"}}, m.Config.Mounts, "the kept machine mounts the kept volume")
				assert.Equal(t, http.StatusOK, login(t, e, spec.App, testPassword))
			})
		}
	}
}

// TestResumeAfterSimulatorRestart stops the simulator mid-deploy and
// resumes against a new one on the same data directory, through a new
// HTTP server (new URL) and a new client.
func TestResumeAfterSimulatorRestart(t *testing.T) {
	for _, boundary := range []Step{StepVolume, StepLaunch} {
		t.Run(string(boundary), func(t *testing.T) {
			dir := t.TempDir()
			e1 := newSimEnv(t, envOptions{dir: dir})
			spec := testSpec("persisted-livebook")
			rec := interruptAt(t, e1, spec, boundary, true)
			e1.close()

			e2 := newSimEnv(t, envOptions{dir: dir})
			machines, _, exists := e2.sim.Counts(spec.App)
			require.True(t, exists, "state survived the restart")
			require.Equal(t, 1, machines, "the in-flight launch was applied and persisted")
			l := e2.launcher(t)
			d, err := l.Resume(waitCtx(t), spec, rec)
			require.NoError(t, err)
			_, err = d.Wait(waitCtx(t))
			require.NoError(t, err)
			assertOneOfEach(t, e2, spec.App)
			assert.Zero(t, e2.sim.Calls()["POST /v1/apps"], "the new simulator's app is reused")
			assert.Zero(t, e2.sim.Calls()["POST /v1/apps/{app}/machines"], "the persisted machine is found, not relaunched")
		})
	}
}

// TestAmbiguousCreates makes one create apply and then fail. Against a
// Fly that agrees with itself at once the created thing is adopted, never
// made twice; against a realistic one (whose lists and GETs lag behind) a
// second create may go out, and still no duplicate survives.
func TestAmbiguousCreates(t *testing.T) {
	tests := []struct {
		path   string
		status int
		calls  string // route whose POST count is checked
		posts  int    // expected POSTs on that route against an instant Fly
	}{
		{"/v1/apps", 500, "POST /v1/apps", 1},
		{"/v1/apps", 503, "POST /v1/apps", 1},
		{"/v1/apps", 504, "POST /v1/apps", 1},
		// The retry lists the secrets first and finds the applied one.
		{"/v1/apps/{app}/secrets", 500, "POST /v1/apps/{app}/secrets", 1},
		{"/v1/apps/{app}/ip_assignments", 500, "POST /v1/apps/{app}/ip_assignments", 2},
		{"/v1/apps/{app}/ip_assignments", 503, "POST /v1/apps/{app}/ip_assignments", 2},
		{"/v1/apps/{app}/volumes", 500, "POST /v1/apps/{app}/volumes", 1},
		{"/v1/apps/{app}/volumes", 503, "POST /v1/apps/{app}/volumes", 1},
		{"/v1/apps/{app}/machines", 500, "POST /v1/apps/{app}/machines", 1},
		{"/v1/apps/{app}/machines", 502, "POST /v1/apps/{app}/machines", 1},
		{"/v1/apps/{app}/machines", 503, "POST /v1/apps/{app}/machines", 1},
		{"/v1/apps/{app}/machines", 504, "POST /v1/apps/{app}/machines", 1},
	}
	for _, prof := range []flysim.Profile{flysim.Instant(), flysim.Realistic()} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/%s %d", prof.Name, tt.path, tt.status), func(t *testing.T) {
				e := newSimEnv(t, envOptions{profile: prof})
				e.sim.AddFault(flysim.Fault{Method: "POST", Path: tt.path, Status: tt.status, Count: 1, CommitThenFail: true})
				l := e.launcher(t)
				spec := testSpec("ambiguous-livebook")
				d, err := l.Start(waitCtx(t), spec)
				require.NoError(t, err)
				evs := collect(t, d)
				_, err = d.Wait(waitCtx(t))
				require.NoError(t, err)
				assertOneOfEach(t, e, spec.App)
				if prof.Name == "instant" {
					assert.Equal(t, tt.posts, e.sim.Calls()[tt.calls])
				} else {
					assert.LessOrEqual(t, e.sim.Calls()[tt.calls], tt.posts+1)
				}

				retried := false
				for _, ev := range evs {
					retried = retried || ev.Status == StatusRetrying
				}
				assert.True(t, retried, "the failure shows as a retrying event")
			})
		}
	}
}
