package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// probeRoute is the simulator's route the readiness probe calls.
const probeRoute = "GET /v1/apps/{app}"

// getHealthz returns the status and body of GET /healthz.
func getHealthz(t *testing.T, s *testServer) (int, string) {
	t.Helper()
	resp, err := http.Get(s.http.URL + "/healthz")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	return resp.StatusCode, string(b)
}

// TestHealthzNeedsTheFlyAPI: /healthz is 200 only when the Fly Machines
// API answers the probe with the launcher's token, through fly-go's client.
func TestHealthzNeedsTheFlyAPI(t *testing.T) {
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
			s := startTestServer(t, c, func(*serverOptions) {})
			status, body := getHealthz(t, s)
			assert.Equal(t, tt.status, status)
			assert.Equal(t, tt.body, body)
			assert.NotContains(t, s.logs.String(), tt.token, "the token is never logged")
		})
	}
}

// TestHealthzCachesTheProbe: health checks, at any rate, cost the Fly API
// one call per probeFresh while it answers and one per probeRetry while
// it does not; readiness follows the API both ways.
func TestHealthzCachesTheProbe(t *testing.T) {
	w := newSimWorld(t)
	api, err := url.Parse(w.url)
	require.NoError(t, err)
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := config{dataDir: t.TempDir(), simSpeed: 1000, flyOrg: defaultOrg, flyAPI: api, flyToken: worldToken}
	s := startTestServer(t, c, func(o *serverOptions) { o.now = clock.now })
	calls := func() int { return w.sim.Calls()[probeRoute] }

	check := func(want int, what string) {
		t.Helper()
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() { _, _ = getHealthz(t, s) })
		}
		wg.Wait()
		status, _ := getHealthz(t, s)
		assert.Equal(t, want, status, what)
	}
	check(http.StatusOK, "ready")
	assert.Equal(t, 1, calls(), "21 checks, one probe")

	clock.advance(probeFresh - time.Second)
	check(http.StatusOK, "still ready")
	assert.Equal(t, 1, calls(), "a good probe stands for probeFresh")

	w.sim.AddFault(flysim.Fault{Method: http.MethodGet, Path: "/v1/apps/{app}", Status: http.StatusUnauthorized})
	clock.advance(time.Second)
	check(http.StatusServiceUnavailable, "the token stopped working")
	assert.Equal(t, 2, calls())

	w.sim.ClearFaults()
	clock.advance(probeRetry - time.Second)
	check(http.StatusServiceUnavailable, "a failed probe stands for probeRetry")
	assert.Equal(t, 2, calls())
	clock.advance(time.Second)
	check(http.StatusOK, "ready again")
	assert.Equal(t, 3, calls())

	logs := s.logs.String()
	assert.Contains(t, logs, "not ready")
	assert.Contains(t, logs, "ready: the Fly API answers")
}
