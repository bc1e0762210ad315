package flysim_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// powerProfile is strictOnly with Fly's refusals around start, stop and
// the stopped-wait, as the realistic profile has them.
func powerProfile() flysim.Profile {
	p := strictOnly()
	p.Stopping = 2 * time.Second
	p.WaitNeedsInstance, p.RefuseBusy = true, true
	return p
}

// testStoppedWaitNeedsInstance: a wait for stopped without instance_id
// answers 400, as does one naming an instance that is not the machine's
// current one; with the current instance it waits; a wait for started
// needs none.
func testStoppedWaitNeedsInstance(t *testing.T) {
	e := newEnv(t, flysim.Options{Profile: powerProfile()})
	ctx := ctxT(t)
	m := strictApp(t, e, "wait-inst", goodPassword, livebookMachine())
	e.clock.Advance(30 * time.Second)
	first, err := e.client.Get(ctx, "wait-inst", m.ID)
	require.NoError(t, err)
	require.Equal(t, "started", first.State)
	require.NoError(t, e.client.Stop(ctx, "wait-inst", fly.StopMachineInput{ID: m.ID}, ""))
	e.clock.Advance(3 * time.Second)
	_, err = e.client.Start(ctx, "wait-inst", m.ID, "")
	require.NoError(t, err)
	e.clock.Advance(30 * time.Second)
	cur, err := e.client.Get(ctx, "wait-inst", m.ID)
	require.NoError(t, err)
	require.NotEqual(t, first.InstanceID, cur.InstanceID, "a start makes a new instance")
	require.NoError(t, e.client.Stop(ctx, "wait-inst", fly.StopMachineInput{ID: m.ID}, ""))
	e.clock.Advance(3 * time.Second)

	path := "/v1/apps/wait-inst/machines/" + m.ID + "/wait?timeout=1&"
	tests := []struct {
		name, query string
		status      int
	}{
		{"stopped without instance_id", "state=stopped", http.StatusBadRequest},
		{"stopped among others without instance_id", "state=started&state=stopped", http.StatusBadRequest},
		{"stopped with fly-go's version only", "state=stopped&version=" + cur.InstanceID, http.StatusBadRequest},
		{"stopped with a stale instance_id", "state=stopped&instance_id=" + first.InstanceID, http.StatusBadRequest},
		{"stopped with an unknown instance_id", "state=stopped&instance_id=01NOSUCHINSTANCE", http.StatusBadRequest},
		{"stopped with the current instance_id", "state=stopped&instance_id=" + cur.InstanceID, http.StatusOK},
		{"started needs no instance_id", "state=started", http.StatusRequestTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := e.rawDo(t, http.MethodGet, path+tt.query, "", nil)
			assert.Equal(t, tt.status, res.StatusCode, body)
			if tt.status == http.StatusBadRequest {
				assert.Contains(t, body, "instance_id")
			}
		})
	}
	t.Run("through fly-go with the instance", func(t *testing.T) {
		require.NoError(t, e.client.Wait(ctx, "wait-inst", m.ID, flaps.WithWaitStates("stopped"), flaps.WithWaitVersion(cur.InstanceID), flaps.WithWaitTimeout(time.Second)))
	})
}

// testBusyRefusals: start and stop answer 412 "unable to start (stop)
// machine from current state: '<state>'" from the states that are still
// changing, and stop from a machine that is already down; start and stop
// from settled states go through.
func testBusyRefusals(t *testing.T) {
	tests := []struct {
		name  string
		setup func(e *env, ctx context.Context, app, id string) // leaves the machine in state
		state string
		start int // status of a start from there
		stop  int // status of a stop from there
	}{
		{"created while launching", func(*env, context.Context, string, string) {}, "created", 412, 412},
		{"starting", func(e *env, _ context.Context, _, _ string) { e.clock.Advance(5 * time.Second) }, "starting", 412, 412},
		{"started", func(e *env, _ context.Context, _, _ string) { e.clock.Advance(30 * time.Second) }, "started", 200, 200},
		{"stopping", func(e *env, ctx context.Context, app, id string) {
			e.clock.Advance(30 * time.Second)
			require.NoError(t, e.client.Stop(ctx, app, fly.StopMachineInput{ID: id}, ""))
		}, "stopping", 412, 412},
		{"stopped", func(e *env, ctx context.Context, app, id string) {
			e.clock.Advance(30 * time.Second)
			require.NoError(t, e.client.Stop(ctx, app, fly.StopMachineInput{ID: id}, ""))
			e.clock.Advance(3 * time.Second)
		}, "stopped", 200, 412},
		{"suspending", func(e *env, ctx context.Context, app, id string) {
			e.clock.Advance(30 * time.Second)
			require.NoError(t, e.client.Suspend(ctx, app, id, ""))
		}, "suspending", 412, 412},
		{"suspended", func(e *env, ctx context.Context, app, id string) {
			e.clock.Advance(30 * time.Second)
			require.NoError(t, e.client.Suspend(ctx, app, id, ""))
			e.clock.Advance(3 * time.Second)
		}, "suspended", 200, 412},
		{"replacing", func(e *env, ctx context.Context, app, id string) {
			e.clock.Advance(30 * time.Second)
			up := livebookMachine()
			up.ID = id
			_, err := e.client.Update(ctx, app, up, "")
			require.NoError(t, err)
		}, "replacing", 412, 412},
	}
	for _, tt := range tests {
		for _, verb := range []string{"start", "stop"} {
			t.Run(tt.name+" "+verb, func(t *testing.T) {
				e := newEnv(t, flysim.Options{Profile: powerProfile()})
				ctx := ctxT(t)
				m := strictApp(t, e, "busy", goodPassword, livebookMachine())
				tt.setup(e, ctx, "busy", m.ID)
				got, err := e.client.Get(ctx, "busy", m.ID)
				require.NoError(t, err)
				require.Equal(t, tt.state, got.State)
				want := tt.start
				if verb == "stop" {
					want = tt.stop
				}
				res, body := e.rawDo(t, http.MethodPost, "/v1/apps/busy/machines/"+m.ID+"/"+verb, "", nil)
				require.Equal(t, want, res.StatusCode, body)
				if want == http.StatusPreconditionFailed {
					assert.Contains(t, body, "unable to "+verb+" machine from current state: '"+tt.state+"'")
					after, err := e.client.Get(ctx, "busy", m.ID)
					require.NoError(t, err)
					assert.Equal(t, tt.state, after.State, "a refusal changes nothing")
				}
			})
		}
	}
	t.Run("instant stays lenient", func(t *testing.T) {
		e := newEnv(t, flysim.Options{Profile: flysim.Instant()})
		m := strictApp(t, e, "lenient", goodPassword, livebookMachine())
		res, body := e.rawDo(t, http.MethodPost, "/v1/apps/lenient/machines/"+m.ID+"/start", "", nil)
		assert.Equal(t, http.StatusOK, res.StatusCode, body)
	})
}

// testIdleMeansNoLoad: an open Livebook tab (the stand-in's long-lived
// /live request) is load: the proxy leaves the machine started however
// long it stays open, and stops it the idle period after it closes.
func testIdleMeansNoLoad(t *testing.T) {
	e := newEnv(t, flysim.Options{Profile: autostopProfile()})
	m := strictApp(t, e, "open-tab", goodPassword, livebookMachine(proxied(fly.MachineAutostopStop, true, 0)))
	start := e.clock.Now()
	require.Equal(t, "started", at(t, e, start, time.Minute, "open-tab", m.ID).State)

	ctx, closeTab := context.WithCancel(context.Background())
	defer closeTab()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/livebook/open-tab/live", nil)
	require.NoError(t, err)
	res, err := e.srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "connected", strings.TrimSpace(line))

	for _, d := range []time.Duration{10 * time.Minute, time.Hour, 5 * time.Hour} {
		assert.Equal(t, "started", at(t, e, start, d, "open-tab", m.ID).State, "a tab open for %v is load", d)
	}
	closeTab()
	// The simulator notes the end of the request when its handler sees
	// the connection go, at whatever the clock says then; each look is
	// six simulated minutes after the previous, so the first look six
	// minutes after that moment sees the machine stopped.
	looks := 0
	require.Eventually(t, func() bool {
		looks++
		return at(t, e, start, 5*time.Hour+time.Duration(looks)*6*time.Minute, "open-tab", m.ID).State == "stopped"
	}, 10*time.Second, 5*time.Millisecond, "stopped the idle period after the tab closed")
	assert.Zero(t, e.sim.Calls()["POST /v1/apps/{app}/machines/{id}/stop"], "the proxy stopped it")
}
