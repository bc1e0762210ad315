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

// Fly: an app answers at <app>.fly.dev "after a small delay", proxy nodes
// learn of a started machine with a delay, and health checks run on the
// private network. Under Profile.EdgeDelay the stand-in Livebook's path,
// Fly's edge, answers 404 (an app it does not know) for a while after the
// machine passed its checks; a restart does not make it forget the app.
// A row of TestFlyBehaviours.
func testEdgeDelay(t *testing.T) {
	prof := flysim.Instant()
	prof.EdgeDelay = 30 * time.Second
	e := newEnv(t, flysim.Options{Profile: prof})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "edge", Org: "personal"})
	require.NoError(t, err)
	m, err := e.client.Launch(ctx, "edge", launchInput("iad"))
	require.NoError(t, err)

	steps := []struct {
		advance time.Duration // simulated time since the previous step
		status  int
		what    string
	}{
		{0, http.StatusNotFound, "no machine started yet: the edge does not know the app"},
		{45 * time.Second, http.StatusNotFound, "the machine passed its checks, the edge still does not route"},
		{4 * time.Second, http.StatusNotFound, "49 s"},
		{time.Second, http.StatusOK, "50 s: started at 20 s, plus the edge's 30 s"},
	}
	for _, st := range steps {
		e.clock.Advance(st.advance)
		if st.advance == 45*time.Second {
			got, err := e.client.Get(ctx, "edge", m.ID)
			require.NoError(t, err)
			require.True(t, got.AllHealthChecks().AllPassing(), "checks pass on the private network")
		}
		status, _ := livebookGet(t, e, "/livebook/edge/public/health")
		assert.Equal(t, st.status, status, st.what)
	}

	// Stopped and started again (autostop, the next request): the edge
	// still knows the app, and the request waits for the boot.
	require.NoError(t, e.client.Stop(ctx, "edge", fly.StopMachineInput{ID: m.ID}, ""))
	e.clock.Advance(30 * time.Second)
	_, err = e.client.Start(ctx, "edge", m.ID, "")
	require.NoError(t, err)
	e.clock.Advance(30 * time.Second)
	status, _ := livebookGet(t, e, "/livebook/edge/public/health")
	assert.Equal(t, http.StatusOK, status)
}
