package flylaunch

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	fly "github.com/superfly/fly-go"

	"github.com/sealkit/sealkit/flylaunch/flysim"
)

// TestStopNamesTheInstance: Fly answers 400 to a wait for stopped without
// the machine's instance_id; Stop passes the instance it read, so it ends
// stopped instead of reporting an error after the stop was sent.
func TestStopNamesTheInstance(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	spec := testSpec("stop-instance")
	rec := launchToDone(t, e, spec)
	b := livebookOf(t, e.launcher(t), rec)

	st, err := b.Stop(waitCtx(t))
	require.NoError(t, err)
	assert.Equal(t, StateStopped, st.State)
	assert.Equal(t, 1, e.sim.Calls()["POST /v1/apps/{app}/machines/{id}/stop"])
}

// TestTurnFromBusyStates: Fly refuses start and stop (412 "unable to
// start machine from current state") while the machine is still changing.
// Stop and Start wait for it to settle, act if they still must, and end
// where they were asked to; a machine that never settles ends with
// ErrStartTimeout at the start deadline, not a wait without end.
func TestTurnFromBusyStates(t *testing.T) {
	const speed = 50 // starting lasts 18 simulated seconds: 360 ms here
	prof := flysim.Realistic()
	prof.Stopping = time.Minute // 1.2 s here
	tests := []struct {
		name   string
		before func(t *testing.T, e *simEnv, app, id string) // leaves the machine busy
		busy   string                                        // the state it is in then
		op     string                                        // "stop" or "start"
		want   LaunchState
	}{
		{"stop while starting", startRaw, "starting", "stop", StateStopped},
		{"start while starting", startRaw, "starting", "start", StateRunning},
		{"start while stopping", stopRaw, "stopping", "start", StateRunning},
		{"stop while stopping", stopRaw, "stopping", "stop", StateStopped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSimEnv(t, envOptions{speed: speed, profile: prof})
			spec := testSpec("busy-" + tt.op)
			rec := launchToDone(t, e, spec)
			l := e.launcher(t, func(o *Options) { o.StartDeadline = 10 * time.Second })
			b := livebookOf(t, l, rec)
			tt.before(t, e, spec.App, rec.MachineID)
			m, err := e.client.Get(waitCtx(t), spec.App, rec.MachineID)
			require.NoError(t, err)
			require.Equal(t, tt.busy, m.State, "the setup left it busy")

			turn := b.Stop
			if tt.op == "start" {
				turn = b.Start
			}
			st, err := turn(waitCtx(t))
			require.NoError(t, err)
			assert.Equal(t, tt.want, st.State)
			got, err := e.client.Get(waitCtx(t), spec.App, rec.MachineID)
			require.NoError(t, err)
			assert.Equal(t, tt.want, stateOf(got), "Fly agrees")
		})
	}
	t.Run("a machine that stays busy ends at the deadline", func(t *testing.T) {
		slow := prof
		slow.Stopping = time.Hour
		e := newSimEnv(t, envOptions{speed: speed, profile: slow})
		spec := testSpec("busy-forever")
		rec := launchToDone(t, e, spec)
		l := e.launcher(t, func(o *Options) { o.StartDeadline = time.Second })
		stopRaw(t, e, spec.App, rec.MachineID)

		done := make(chan error, 1)
		go func() {
			_, err := livebookOf(t, l, rec).Start(waitCtx(t))
			done <- err
		}()
		select {
		case err := <-done:
			require.ErrorIs(t, err, ErrStartTimeout)
		case <-time.After(20 * time.Second):
			t.Fatal("Start did not end at its deadline")
		}
	})
}

// startRaw stops the machine as a user would, waits until it is stopped,
// then starts it: it is starting when startRaw returns.
func startRaw(t *testing.T, e *simEnv, app, id string) {
	t.Helper()
	stopRaw(t, e, app, id)
	require.Eventually(t, func() bool {
		m, err := e.client.Get(waitCtx(t), app, id)
		return err == nil && m.State == fly.MachineStateStopped
	}, 10*time.Second, 10*time.Millisecond)
	_, err := e.client.Start(waitCtx(t), app, id, "")
	require.NoError(t, err)
}

// stopRaw stops the started machine as a user would: it is stopping when
// stopRaw returns.
func stopRaw(t *testing.T, e *simEnv, app, id string) {
	t.Helper()
	require.Eventually(t, func() bool {
		m, err := e.client.Get(waitCtx(t), app, id)
		return err == nil && m.State == fly.MachineStateStarted
	}, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, e.client.Stop(waitCtx(t), app, fly.StopMachineInput{ID: id}, ""))
}

// TestOpenTabKeepsLivebookRunning: the service tells Fly's proxy to count
// HTTP requests as load (concurrency type "requests"), and an open
// Livebook tab (its long-lived connection) is one: the proxy leaves the
// machine running past the idle period while the tab is open, and stops
// it once the tab is closed and the idle period has passed.
func TestOpenTabKeepsLivebookRunning(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	spec := testSpec("open-tab")
	rec := launchToDone(t, e, spec)
	b := livebookOf(t, e.launcher(t), rec)

	m, err := e.client.Get(waitCtx(t), spec.App, rec.MachineID)
	require.NoError(t, err)
	require.Len(t, m.Config.Services, 1)
	require.NotNil(t, m.Config.Services[0].Concurrency, "the concurrency type is chosen, not Fly's default")
	assert.Equal(t, "requests", m.Config.Services[0].Concurrency.Type)

	ctx, closeTab := context.WithCancel(context.Background())
	defer closeTab()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/livebook/"+spec.App+"/live", nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	_, err = bufio.NewReader(res.Body).ReadString('\n')
	require.NoError(t, err)

	time.Sleep(time.Duration(float64(12*time.Minute) / e.speed)) // twice the idle period
	st, err := b.Status(waitCtx(t))
	require.NoError(t, err)
	assert.Equal(t, StateRunning, st.State, "an open tab is load")

	closeTab()
	require.Eventually(t, func() bool {
		st, err := b.Status(waitCtx(t))
		return err == nil && st.State == StateStopped
	}, 20*time.Second, 20*time.Millisecond, "stopped once the tab is closed and the idle period passed")
}

// TestConcurrentLaunchesUnderRateLimits: six launches at once against
// the realistic profile, whose Machines API answers 429 past its
// documented rate limits (creating apps shares one bucket per token), all
// finish: every 429's Retry-After is waited out.
func TestConcurrentLaunchesUnderRateLimits(t *testing.T) {
	e := newSimEnv(t, envOptions{speed: 100})
	l := e.launcher(t, func(o *Options) { o.StartDeadline = 60 * time.Second })
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	recs := make([]Record, n)
	for i := range n {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			d, err := l.Start(ctx, testSpec(fmt.Sprintf("burst-%d", i)))
			if err != nil {
				errs[i] = err
				return
			}
			res, err := d.Wait(ctx)
			errs[i], recs[i] = err, res.Record
		})
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i], "launch %d", i)
		assert.Equal(t, StepHealthy, recs[i].Step)
		assertOneOfEach(t, e, fmt.Sprintf("burst-%d", i))
	}
	t.Logf("answered 429: %v", e.sim.Throttled())
}
