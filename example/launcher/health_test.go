package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealkit/sealkit/flylaunch"
	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/sealkit/sealkit/internal/fakeclock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// probeRoute is the simulator's route the readiness probe calls.
const probeRoute = "GET /v1/apps/{app}"

// getPath returns the status and body of GET path.
func getPath(t *testing.T, s *testServer, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(s.http.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	return resp.StatusCode, string(b)
}

// getReadyz returns the status and body of GET /readyz.
func getReadyz(t *testing.T, s *testServer) (int, string) {
	t.Helper()
	return getPath(t, s, "/readyz")
}

// TestReadyzReportsTheFlyAPI: /readyz is 200 only when the Fly Machines
// API answers the probe with the launcher's token, through fly-go's
// client; /healthz, the check Fly's proxy routes by, is 200 whatever the
// Fly API does.
func TestReadyzReportsTheFlyAPI(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	downURL, err := url.Parse(down.URL)
	require.NoError(t, err)
	down.Close() // nothing listens there any more

	tests := []struct {
		name   string
		token  string
		api    func(w *simWorld) *url.URL
		fault  *flysim.Fault
		status int
		body   string
	}{
		{"answers", worldToken, nil, nil, http.StatusOK, "ok\n"},
		{"refuses the token", "not-the-token", nil, nil, http.StatusServiceUnavailable, "not ready: the Fly API refused the token\n"},
		{"is down", worldToken, func(*simWorld) *url.URL { return downURL }, nil, http.StatusServiceUnavailable, "not ready: the Fly API did not answer\n"},
		{"fails", worldToken, nil, &flysim.Fault{Method: http.MethodGet, Path: "/v1/apps/{app}", Status: http.StatusBadRequest},
			http.StatusServiceUnavailable, "not ready: the Fly API did not answer\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newSimWorld(t)
			api, err := url.Parse(w.url)
			require.NoError(t, err)
			if tt.api != nil {
				api = tt.api(w)
			}
			if tt.fault != nil {
				w.sim.AddFault(*tt.fault)
			}
			c := config{dataDir: t.TempDir(), simSpeed: 1000, flyOrg: defaultOrg, flyAPI: api, flyToken: tt.token}
			s := startTestServer(t, c, func(*config) {})
			status, body := getReadyz(t, s)
			assert.Equal(t, tt.status, status)
			assert.Equal(t, tt.body, body)
			status, body = getPath(t, s, "/healthz")
			assert.Equal(t, http.StatusOK, status, "routing does not depend on the Fly API")
			assert.Equal(t, "ok\n", body)
			assert.NotContains(t, s.logs.String(), tt.token, "the token is never logged")
		})
	}
}

// TestLauncherStaysUpWhileFlyIsDown: with every Fly API call failing or
// hanging, the routing check stays 200 without calling Fly, the launch
// page loads and says that launching is unavailable (and refuses a
// launch with that sentence), and a manage link still opens its page,
// which says Fly cannot be reached.
func TestLauncherStaysUpWhileFlyIsDown(t *testing.T) {
	tests := []struct {
		name  string
		fault flysim.Fault
	}{
		{"every call fails", flysim.Fault{Status: http.StatusBadGateway}},
		{"every call hangs", flysim.Fault{Latency: 24 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, 100, 0)
			s.fly.sim.AddFault(tt.fault)
			t.Cleanup(s.fly.sim.ClearFaults)
			before := s.fly.sim.Calls()

			status, body := getPath(t, s, "/healthz")
			assert.Equal(t, http.StatusOK, status)
			assert.Equal(t, "ok\n", body)
			assert.Equal(t, before, s.fly.sim.Calls(), "the routing check does not call Fly")

			resp, _ := get(t, s.http.URL+"/")
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			c, _ := s.connect(t, "")
			idle := viewOf(t, c.read())
			assert.Equal(t, phaseIdle, idle.Phase)
			assert.Equal(t, sentence(errLaunchUnavailable.Error()), idle.Unavailable, "the page says launching is unavailable")
			assert.Contains(t, idle.Unavailable, "Launching is unavailable right now")
			r := c.action("launch", map[string]any{"app": "while-fly-is-down", "region": "ams", "size": "small"})
			assert.False(t, r.OK)
			assert.Equal(t, sentence(errLaunchUnavailable.Error()), r.Error)
			assert.Zero(t, s.fly.sim.Calls()["POST /v1/apps"], "nothing was created")
			status, _ = getReadyz(t, s)
			assert.Equal(t, http.StatusServiceUnavailable, status)
			status, _ = getPath(t, s, "/healthz")
			assert.Equal(t, http.StatusOK, status)

			resp, _ = get(t, s.http.URL+"/manage")
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			rec := flylaunch.Record{LaunchID: strings.Repeat("ab", 16), App: "kept-livebook", Org: defaultOrg, Region: "ams",
				MachineID: "e784079b449483", Step: flylaunch.StepHealthy, AppCreated: true}
			tok, err := s.srv.manage.Seal(newManageState(rec, time.Now()))
			require.NoError(t, err)
			mc, result := dialPath(t, s.http.URL, "/manage/resume", tok, nil)
			assert.Equal(t, "resumed", result.Status, "the manage link opens")
			if tt.fault.Status != 0 {
				v := nextView(t, mc)
				assert.Contains(t, v.Message, unreachable)
				noDetails(t, v)
			}
		})
	}
}

// TestReadyzFollowsTheProbe: /readyz, asked at any rate, costs the Fly API
// one call while flylaunch's cached probe (Launcher.Ready: 30 s while Fly
// answers, 5 s while it does not) stands, and follows the API both ways.
func TestReadyzFollowsTheProbe(t *testing.T) {
	w := newSimWorld(t)
	api, err := url.Parse(w.url)
	require.NoError(t, err)
	clock := fakeclock.At(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	c := config{dataDir: t.TempDir(), simSpeed: 1000, flyOrg: defaultOrg, flyAPI: api, flyToken: worldToken}
	s := startTestServer(t, c, func(o *config) { o.now = clock.Now })
	calls := func() int { return w.sim.Calls()[probeRoute] }

	check := func(want int, what string) {
		t.Helper()
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() { _, _ = getReadyz(t, s) })
		}
		wg.Wait()
		status, _ := getReadyz(t, s)
		assert.Equal(t, want, status, what)
	}
	check(http.StatusOK, "ready")
	assert.Equal(t, 1, calls(), "21 checks, one probe")

	w.sim.AddFault(flysim.Fault{Method: http.MethodGet, Path: "/v1/apps/{app}", Status: http.StatusUnauthorized})
	clock.Advance(30 * time.Second)
	check(http.StatusServiceUnavailable, "the token stopped working")
	status, body := getReadyz(t, s)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Contains(t, body, "refused the token")
	assert.Equal(t, 2, calls())

	w.sim.ClearFaults()
	clock.Advance(5 * time.Second)
	check(http.StatusOK, "ready again")
	assert.Equal(t, 3, calls())
}
