package flysim_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/superfly/fly-go/flaps"
)

// testRateLimits: on a clock that does not move, each action gets its
// burst and then 429 with Retry-After, per identifier (another machine or
// app has its own bucket) and per action (a Get is not a Start); a second
// later the bucket has refilled by its rate.
func testRateLimits(t *testing.T) {
	prof := strictOnly()
	prof.RateLimits = true
	tests := []struct {
		name   string
		method string
		path   func(app, id string) string
		burst  int // answered before the first 429
		rate   int // answered again a second later
	}{
		{"create app, per organization", http.MethodPost, func(string, string) string { return "/v1/apps" }, 3, 1},
		{"start machine, per machine", http.MethodPost, func(app, id string) string { return "/v1/apps/" + app + "/machines/" + id + "/start" }, 3, 1},
		{"list machines, a read, per app", http.MethodGet, func(app, _ string) string { return "/v1/apps/" + app + "/machines" }, 10, 5},
		{"get machine, per machine", http.MethodGet, func(app, id string) string { return "/v1/apps/" + app + "/machines/" + id }, 10, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, flysim.Options{Profile: prof})
			app, id := setupRateApp(t, e)
			e.clock.Advance(time.Minute) // every bucket full again
			send := func() *http.Response {
				t.Helper()
				body := ""
				if tt.path(app, id) == "/v1/apps" {
					body = fmt.Sprintf(`{"app_name":"burst-%d","org_slug":"personal"}`, e.sim.Calls()["POST /v1/apps"])
				}
				res, _ := e.rawDo(t, tt.method, tt.path(app, id), body, nil)
				return res
			}
			for i := range tt.burst {
				require.NotEqual(t, http.StatusTooManyRequests, send().StatusCode, "request %d of the burst", i+1)
			}
			res := send()
			require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
			assert.Equal(t, "1", res.Header.Get("Retry-After"))
			assert.Equal(t, 1, e.sim.Throttled()[tt.method+" /v1/apps"+trimApps(tt.path("{app}", "{id}"))])

			e.clock.Advance(time.Second)
			for i := range tt.rate {
				require.NotEqual(t, http.StatusTooManyRequests, send().StatusCode, "request %d a second later", i+1)
			}
			assert.Equal(t, http.StatusTooManyRequests, send().StatusCode)
		})
	}
	t.Run("buckets are per identifier and per action", func(t *testing.T) {
		e := newEnv(t, flysim.Options{Profile: prof})
		app, id := setupRateApp(t, e)
		e.clock.Advance(time.Minute)
		for range 3 {
			res, body := e.rawDo(t, http.MethodGet, "/v1/apps/"+app+"/machines/"+id+"/wait?state=started&timeout=1", "", nil)
			require.Equal(t, http.StatusOK, res.StatusCode, body)
		}
		for range 3 {
			res, _ := e.rawDo(t, http.MethodPost, "/v1/apps/"+app+"/machines/"+id+"/stop", "", nil)
			require.NotEqual(t, http.StatusTooManyRequests, res.StatusCode)
		}
		res, _ := e.rawDo(t, http.MethodPost, "/v1/apps/"+app+"/machines/"+id+"/stop", "", nil)
		require.Equal(t, http.StatusTooManyRequests, res.StatusCode, "the fourth stop of the machine")
		res, _ = e.rawDo(t, http.MethodPost, "/v1/apps/"+app+"/machines/"+id+"/start", "", nil)
		require.NotEqual(t, http.StatusTooManyRequests, res.StatusCode, "start is another action")
	})
	t.Run("fly-go surfaces the 429", func(t *testing.T) {
		e := newEnv(t, flysim.Options{Profile: prof})
		ctx := ctxT(t)
		for i := range 3 {
			_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: fmt.Sprintf("fly-go-%d", i), Org: "personal"})
			require.NoError(t, err)
		}
		_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "fly-go-3", Org: "personal"})
		require.Error(t, err)
		assert.Equal(t, http.StatusTooManyRequests, statusOf(t, err))
	})
}

// setupRateApp makes an app with one started machine.
func setupRateApp(t *testing.T, e *env) (app, id string) {
	t.Helper()
	m := strictApp(t, e, "rated", goodPassword, livebookMachine())
	e.clock.Advance(30 * time.Second)
	return "rated", m.ID
}

// trimApps strips the leading /v1/apps of a path.
func trimApps(p string) string { return p[len("/v1/apps"):] }
