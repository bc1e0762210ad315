package flylaunch

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/flylaunch/flysim"
)

// The tests of this file hold flylaunch to what real Fly does and a kind
// simulator did not (issue 9 A-F), each through fly-go's client against a
// flysim that behaves that way.

// launchOn runs one deploy of spec to its end on e and returns its result.
func launchOn(t *testing.T, e *simEnv, spec Spec, mod ...func(*Options)) (Result, []Event, error) {
	t.Helper()
	l := e.launcher(t, mod...)
	d, err := l.Start(waitCtx(t), spec)
	require.NoError(t, err)
	evs := collect(t, d)
	res, err := d.Wait(waitCtx(t))
	return res, evs, err
}

// TestOwnAppInvisibleAfterCreate is A: after our own CreateApp, GetApp
// answers 401 (and 404) for a while, as fly-go's WaitForApp expects. That
// is not "another org owns it": the deploy waits, and succeeds.
func TestOwnAppInvisibleAfterCreate(t *testing.T) {
	for _, rate := range []float64{0, 1} {
		t.Run(map[float64]string{0: "404", 1: "401"}[rate], func(t *testing.T) {
			e := newSimEnv(t, envOptions{profile: flysim.Profile{Name: "slow apps", AppPropagation: 30 * time.Second, AppUnauthorizedRate: rate}})
			res, _, err := launchOn(t, e, testSpec("unseen-livebook"))
			require.NoError(t, err)
			assert.True(t, res.Record.AppCreated)
			assertOneOfEach(t, e, "unseen-livebook")
		})
	}
}

// TestNewMachineInvisibleOnWait is B: a machine created a moment ago may
// answer 404 to /wait and Get; flyctl retries that, and so must we.
func TestNewMachineInvisibleOnWait(t *testing.T) {
	e := newSimEnv(t, envOptions{profile: flysim.Profile{Name: "slow machines", MachinePropagation: 30 * time.Second}})
	_, _, err := launchOn(t, e, testSpec("hidden-livebook"))
	require.NoError(t, err)
	assertOneOfEach(t, e, "hidden-livebook")
}

// TestNoDuplicateSurvivesALaggingList is C: after an ambiguous launch (the
// machine was made, the answer lost), the machine list lags behind, so a
// lookup finds nothing and a second machine is launched (Fly does not
// refuse a repeated name within the lag). The deploy must end with exactly
// one machine for its launch ID, the oldest.
func TestNoDuplicateSurvivesALaggingList(t *testing.T) {
	// The list lags 1.2 s of real time (10 simulated minutes at speed
	// 500): far longer than the lookup after the failed launch waits, even
	// on a loaded machine, and shorter than the propagation bound after
	// which dedupe looks again (3 s).
	e := newSimEnv(t, envOptions{profile: flysim.Profile{Name: "lagging list", ListLag: 10 * time.Minute}})
	e.sim.AddFault(flysim.Fault{Method: "POST", Path: "/v1/apps/{app}/machines", Status: 500, Count: 1, CommitThenFail: true})
	res, _, err := launchOn(t, e, testSpec("lagging-livebook"), func(o *Options) { o.Propagation = 3 * time.Second })
	require.NoError(t, err)
	assert.Equal(t, 2, e.sim.Calls()["POST /v1/apps/{app}/machines"], "the lagging list let a second launch through")

	ms, err := e.client.List(waitCtx(t), "lagging-livebook", "")
	require.NoError(t, err)
	var ours []string
	oldest := ""
	for _, m := range ms {
		if m.IsActive() && m.GetMetadataByKey(MetadataKey) == res.Record.LaunchID {
			ours = append(ours, m.ID)
		}
		if oldest == "" || m.CreatedAt < ms[0].CreatedAt {
			oldest = m.ID
		}
	}
	assert.Len(t, ours, 1, "no duplicate survives")
	assert.Equal(t, []string{res.Record.MachineID}, ours, "the record names the survivor")
}

// TestCapacityErrorsOfEveryShape is D: Fly says "no room" in six ways;
// each is ErrNoCapacity naming the region, never a name conflict or a
// retry storm.
func TestCapacityErrorsOfEveryShape(t *testing.T) {
	for _, how := range []flysim.NoCapacity{
		flysim.InsufficientCapacity, flysim.InsufficientMemory, flysim.InsufficientResources,
		flysim.OverQuota, flysim.Unavailable503, flysim.BadGateway502,
	} {
		t.Run(how.String(), func(t *testing.T) {
			e := newSimEnv(t, envOptions{})
			e.sim.SetNoCapacity("ams", how)
			_, _, err := launchOn(t, e, testSpec("roomless-livebook"))
			require.ErrorIs(t, err, ErrNoCapacity)
			assert.NotErrorIs(t, err, ErrNameTaken)
			assert.Contains(t, err.Error(), "ams")
			machines, _, _ := e.sim.Counts("roomless-livebook")
			assert.Zero(t, machines)
		})
	}
}

// TestOrgSlugsComparedCanonically is E: the personal org answers as
// "personal" whatever slug the launch named it by; our own new app must
// not look foreign, and Delete must still delete it.
func TestOrgSlugsComparedCanonically(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	spec := testSpec("raw-slug-livebook")
	spec.Org = flysim.PersonalOrgRawSlug
	res, _, err := launchOn(t, e, spec)
	require.NoError(t, err)
	require.NoError(t, deleteLaunch(waitCtx(t), e.launcher(t), res.Record))
	_, _, exists := e.sim.Counts(spec.App)
	assert.False(t, exists)
}

// TestRetryAfterHonoured is F's first half: a 429 carries Retry-After, and
// the retry waits at least that long, whatever the backoff would say.
func TestRetryAfterHonoured(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	e.sim.AddFault(flysim.Fault{Method: "POST", Path: "/v1/apps", Status: 429, Count: 1, RetryAfter: 2 * time.Second})
	_, evs, err := launchOn(t, e, testSpec("patient-livebook"))
	require.NoError(t, err)
	var msgs []string
	for _, ev := range evs {
		if ev.Status == StatusRetrying {
			msgs = append(msgs, ev.Message)
		}
	}
	require.Len(t, msgs, 1)
	assert.Contains(t, msgs[0], "HTTP 429")
	assert.Contains(t, msgs[0], "in 2s", "the wait is Fly's Retry-After, not the millisecond backoff")
}

// TestFailingMachinesEndTheWaitAtOnce is F's second half: a machine Fly
// reports failed or launch_failed, or one that keeps crashing, ends the
// deploy with ErrMachineFailed saying what Fly reported, long before the
// start deadline.
func TestFailingMachinesEndTheWaitAtOnce(t *testing.T) {
	tests := []struct {
		name string
		spec func(Spec) Spec
		want string
	}{
		{"unknown image", func(s Spec) Spec { s.Image = "registry.example/not-livebook:1"; return s }, "launch_failed"},
		{"crash loop", func(s Spec) Spec { s.Secrets = Secrets{"LIVEBOOK_PASSWORD": "short"}; return s }, "exit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSimEnv(t, envOptions{speed: 100, profile: flysim.Realistic()})
			_, _, err := launchOn(t, e, tt.spec(testSpec("doomed-livebook")), func(o *Options) { o.StartDeadline = time.Hour })
			require.ErrorIs(t, err, ErrMachineFailed)
			assert.Contains(t, err.Error(), tt.want)
			// Each server-side wait lasts at most waitSlice of Fly's time:
			// two of them bound the simulated time it took to notice, plus
			// those the first boot's image pull and new volume's setup
			// take before anything can fail.
			prof := flysim.Realistic()
			boot := int((prof.ImagePull + prof.FreshVolumeBoot + waitSlice - 1) / waitSlice)
			assert.LessOrEqual(t, e.sim.Calls()["GET /v1/apps/{app}/machines/{id}/wait"], 2+boot)
			var ae *APIError
			require.True(t, errors.As(err, &ae))
			assert.NotContains(t, strings.ToLower(err.Error()), "short", "no secret in the error")
		})
	}
}

// TestMisconfiguredLivebookRefused: a Livebook listens on LIVEBOOK_PORT
// (8080) and answers its health check at /public/health. A spec that
// points the service or the check elsewhere can never become healthy: it
// is refused before anything is created.
func TestMisconfiguredLivebookRefused(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Spec)
	}{
		{"wrong port", func(s *Spec) { s.InternalPort = 4000 }},
		{"wrong health path", func(s *Spec) { s.HealthPath = "/health" }},
		{"port env disagrees", func(s *Spec) { s.Env = map[string]string{"LIVEBOOK_PORT": "9090"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSimEnv(t, envOptions{profile: flysim.Realistic()})
			spec := testSpec("misconfigured-livebook")
			tt.mod(&spec)
			_, err := e.launcher(t).Start(waitCtx(t), spec)
			require.ErrorIs(t, err, ErrInvalidSpec)
			assert.Empty(t, e.sim.Calls())
		})
	}
	ok := testSpec("reconfigured-livebook")
	ok.Env = map[string]string{"LIVEBOOK_PORT": "9090"}
	ok.InternalPort = 9090
	require.NoError(t, ok.Validate(), "a consistent port is fine")
}
