package flysim_test

import (
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/sealkit/sealkit/internal/fakeclock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/superfly/fly-go/flaps"
)

// statusOf is the HTTP status of a fly-go error, 0 for nil.
func statusOf(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var fe *flaps.FlapsError
	require.True(t, errors.As(err, &fe), "want *flaps.FlapsError, got %T: %v", err, err)
	return fe.ResponseStatusCode
}

// firstVisible steps the fake clock in 100 ms (simulated) steps from
// start until probe stops failing, and returns the simulated delay.
func firstVisible(t *testing.T, e *env, speed float64, start time.Time, probe func() error) time.Duration {
	t.Helper()
	for d := time.Duration(0); d <= time.Minute; d += 100 * time.Millisecond {
		e.clock.Set(start.Add(time.Duration(float64(d) / speed)))
		if probe() == nil {
			return d
		}
	}
	t.Fatal("never became visible")
	return 0
}

// testAppPropagation: after CreateApp, the app is invisible to every route
// naming it (404, or 401 at the configured rate) for at most
// AppPropagation and at least half of it, at any Speed; its name stays
// taken meanwhile.
func testAppPropagation(t *testing.T) {
	for _, speed := range []float64{1, 25} {
		for _, rate := range []float64{0, 1} {
			t.Run("", func(t *testing.T) {
				prof := flysim.Profile{Name: "apps", AppPropagation: 4 * time.Second, AppUnauthorizedRate: rate}
				e := newEnv(t, flysim.Options{Profile: prof, Speed: speed})
				ctx := ctxT(t)
				start := e.clock.Now()
				created, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "slow-app", Org: "personal"})
				require.NoError(t, err)
				assert.Equal(t, "slow-app", created.Name, "the create itself answers with the app")

				want := map[float64]int{0: http.StatusNotFound, 1: http.StatusUnauthorized}[rate]
				_, err = e.client.GetApp(ctx, "slow-app")
				assert.Equal(t, want, statusOf(t, err))
				_, err = e.client.ListAppSecrets(ctx, "slow-app", nil, false)
				assert.Equal(t, want, statusOf(t, err), "every route naming the app")
				apps, err := e.client.ListApps(ctx, flaps.ListAppsRequest{OrgSlug: "personal"})
				require.NoError(t, err)
				assert.Empty(t, apps)
				_, err = e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "slow-app", Org: "personal"})
				fe := requireFlapsError(t, err, http.StatusUnprocessableEntity)
				require.NotNil(t, fe.StatusCode())
				assert.Equal(t, flaps.StatusCode("name_taken"), *fe.StatusCode(), "the name is taken at once")
				_, _, exists := e.sim.Counts("slow-app")
				assert.True(t, exists)

				d := firstVisible(t, e, speed, start, func() error { _, err := e.client.GetApp(ctx, "slow-app"); return err })
				assert.GreaterOrEqual(t, d, 2*time.Second)
				assert.LessOrEqual(t, d, 4*time.Second)
				apps, err = e.client.ListApps(ctx, flaps.ListAppsRequest{OrgSlug: "personal"})
				require.NoError(t, err)
				assert.Len(t, apps, 1)
			})
		}
	}
}

// testWaitForApp: fly-go's own WaitForApp (it retries 404 and 401) gets
// through the realistic window, in fake time.
func testWaitForApp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		prof := flysim.Realistic()
		prof.AppUnauthorizedRate = 0.5
		sim, c := newBubbleEnv(t, flysim.Options{Profile: prof, Seed: 3})
		start := time.Now()
		_, err := c.CreateApp(t.Context(), flaps.CreateAppRequest{Name: "waited", Org: "personal"})
		require.NoError(t, err)
		require.NoError(t, c.WaitForApp(t.Context(), "waited"))
		assert.GreaterOrEqual(t, time.Since(start), 2*time.Second)
		assert.Greater(t, sim.Calls()["GET /v1/apps/{app}"], 1, "WaitForApp had to retry")
		_, err = c.GetApp(t.Context(), "waited")
		require.NoError(t, err)
	})
}

// TestPropagationSeeded: the same Seed gives the same delays, another
// Seed others.
func TestPropagationSeeded(t *testing.T) {
	delays := func(seed int64) []time.Duration {
		e := newEnv(t, flysim.Options{Profile: flysim.Profile{Name: "apps", AppPropagation: 10 * time.Second}, Seed: seed})
		ctx := ctxT(t)
		var out []time.Duration
		for _, name := range []string{"a1", "a2", "a3", "a4"} {
			start := e.clock.Now()
			_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: name, Org: "personal"})
			require.NoError(t, err)
			out = append(out, firstVisible(t, e, 1, start, func() error { _, err := e.client.GetApp(ctx, name); return err }))
		}
		return out
	}
	a := delays(11)
	assert.Equal(t, a, delays(11))
	assert.NotEqual(t, a, delays(12))
}

// testMachinePropagation: a new machine's Get and /wait answer 404 for up
// to MachinePropagation; retrying the wait on 404, as flyctl does for a
// machine it just created, gets through.
func testMachinePropagation(t *testing.T) {
	e := newEnv(t, flysim.Options{Profile: flysim.Profile{Name: "machines", MachinePropagation: 3 * time.Second}})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "new-machine", Org: "personal"})
	require.NoError(t, err)
	start := e.clock.Now()
	m, err := e.client.Launch(ctx, "new-machine", launchInput("iad"))
	require.NoError(t, err)
	assert.NotEmpty(t, m.ID, "the launch answers with the machine")

	_, err = e.client.Get(ctx, "new-machine", m.ID)
	fe := requireFlapsError(t, err, http.StatusNotFound)
	assert.Equal(t, "machine not found", fe.Error())
	err = e.client.Wait(ctx, "new-machine", m.ID, flaps.WithWaitTimeout(time.Second))
	requireFlapsError(t, err, http.StatusNotFound)
	requireFlapsError(t, e.client.SetMetadata(ctx, "new-machine", m.ID, "k", "v"), http.StatusNotFound)

	d := firstVisible(t, e, 1, start, func() error { _, err := e.client.Get(ctx, "new-machine", m.ID); return err })
	assert.GreaterOrEqual(t, d, 1500*time.Millisecond)
	assert.LessOrEqual(t, d, 3*time.Second)
	e.clock.Advance(25 * time.Second)
	require.NoError(t, e.client.Wait(ctx, "new-machine", m.ID, flaps.WithWaitTimeout(time.Second)))
}

// testWaitRetriedOn404: flyctl's WaitForState(..., WithJustCreated())
// loop, written out: retry a 404 with backoff until the wait answers.
func testWaitRetriedOn404(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim, c := newBubbleEnv(t, flysim.Options{Profile: flysim.Profile{Name: "machines", MachinePropagation: 3 * time.Second}, Speed: 10})
		ctx := t.Context()
		_, err := c.CreateApp(ctx, flaps.CreateAppRequest{Name: "retried", Org: "personal"})
		require.NoError(t, err)
		m, err := c.Launch(ctx, "retried", launchInput("iad"))
		require.NoError(t, err)
		for {
			err = c.Wait(ctx, "retried", m.ID, flaps.WithWaitStates("started"), flaps.WithWaitTimeout(60*time.Second))
			if statusOf(t, err) != http.StatusNotFound {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		require.NoError(t, err)
		assert.Greater(t, sim.Calls()["GET /v1/apps/{app}/machines/{id}/wait"], 1)
	})
}

// testListLag: machine lists (with a metadata filter or without) miss a
// new machine for up to ListLag, and the machine-name check reads the
// same lagging list, so a name repeated within the lag makes a duplicate.
func testListLag(t *testing.T) {
	e := newEnv(t, flysim.Options{Profile: flysim.Profile{Name: "list", ListLag: 5 * time.Second}})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "lagging", Org: "personal"})
	require.NoError(t, err)
	in := launchInput("iad")
	in.Name = "livebook-abc123"
	start := e.clock.Now()
	first, err := e.client.Launch(ctx, "lagging", in)
	require.NoError(t, err)

	for _, filter := range []string{"metadata.sealkit_launch=abc123", ""} {
		list, err := e.client.List(ctx, "lagging", filter)
		require.NoError(t, err)
		assert.Empty(t, list, "filter %q", filter)
	}
	got, err := e.client.Get(ctx, "lagging", first.ID)
	require.NoError(t, err, "Get reads another store: the machine is there")
	assert.Equal(t, first.ID, got.ID)

	e.clock.Advance(time.Second)
	second, err := e.client.Launch(ctx, "lagging", in)
	require.NoError(t, err, "the repeated name is not caught within the lag")
	assert.NotEqual(t, first.ID, second.ID)
	machines, _, _ := e.sim.Counts("lagging")
	assert.Equal(t, 2, machines)

	d := firstVisible(t, e, 1, start, func() error {
		list, err := e.client.List(ctx, "lagging", "metadata.sealkit_launch=abc123")
		if err == nil && len(list) == 0 {
			return errors.New("empty")
		}
		return err
	})
	assert.GreaterOrEqual(t, d, 2500*time.Millisecond)
	assert.LessOrEqual(t, d, 5*time.Second)
	e.clock.Set(start.Add(10 * time.Second))
	list, err := e.client.List(ctx, "lagging", "metadata.sealkit_launch=abc123")
	require.NoError(t, err)
	require.Len(t, list, 2, "both carry the launch ID")
	assert.Equal(t, first.ID, list[0].ID, "oldest first")

	_, err = e.client.Launch(ctx, "lagging", in)
	fe := requireFlapsError(t, err, http.StatusConflict)
	assert.Contains(t, fe.Error(), "already_exists", "once listed, the name is taken")
}

// TestPropagationSurvivesRestart: when a new app becomes visible is part
// of the state, so a simulator restarted within the window keeps hiding it
// until the same moment.
func TestPropagationSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	clock := fakeclock.At(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	prof := flysim.Profile{Name: "apps", AppPropagation: 10 * time.Second}
	e := newEnv(t, flysim.Options{DataDir: dir, Clock: clock.Now, Profile: prof})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "kept", Org: "personal"})
	require.NoError(t, err)
	e.srv.Close()
	require.NoError(t, e.sim.Close())

	e2 := newEnv(t, flysim.Options{DataDir: dir, Clock: clock.Now, Profile: flysim.Instant()})
	_, err = e2.client.GetApp(ctx, "kept")
	requireFlapsError(t, err, http.StatusNotFound)
	clock.Advance(10 * time.Second)
	_, err = e2.client.GetApp(ctx, "kept")
	require.NoError(t, err)
}
