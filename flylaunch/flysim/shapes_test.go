package flysim_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/superfly/fly-go/flaps"
)

// body decodes a FlapsError's body as Fly's {"error", "status"}.
func body(t *testing.T, fe *flaps.FlapsError) (msg, code string) {
	t.Helper()
	var b struct{ Error, Status string }
	require.NoError(t, json.Unmarshal(fe.ResponseBody, &b), "body %q", fe.ResponseBody)
	return b.Error, b.Status
}

// testNoCapacityShapes: each way Fly refuses a machine for want of room,
// through fly-go: the status code, the body, the region (or org) named,
// and fly-go's own resending of 502/503 (four calls for one Launch).
func testNoCapacityShapes(t *testing.T) {
	tests := []struct {
		how    flysim.NoCapacity
		status int
		code   string
		says   string
		calls  int
	}{
		{flysim.InsufficientCapacity, http.StatusPreconditionFailed, "insufficient_capacity", "could not reserve resource for machine in syd", 1},
		{flysim.InsufficientMemory, http.StatusConflict, "", "insufficient memory available to fulfill request", 1},
		{flysim.InsufficientResources, http.StatusPreconditionFailed, "", "insufficient resources available to fulfill request", 1},
		{flysim.OverQuota, http.StatusForbidden, "", `organization "personal" is using 1970176 MB of memory in syd which is over the allowed quota`, 1},
		{flysim.Unavailable503, http.StatusServiceUnavailable, "", "no capacity available in syd", 4},
		{flysim.BadGateway502, http.StatusBadGateway, "", "no capacity available in syd", 4},
	}
	for _, tt := range tests {
		t.Run(tt.how.String(), func(t *testing.T) {
			e := newEnv(t, flysim.Options{})
			e.client = inProcessClient(t, e.sim) // see inProcessClient: fly-go resends 502/503
			ctx := ctxT(t)
			_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "full", Org: flysim.PersonalOrgRawSlug})
			require.NoError(t, err)
			e.sim.SetNoCapacity("syd", tt.how)
			_, err = e.client.Launch(ctx, "full", launchInput("syd"))
			fe := requireFlapsError(t, err, tt.status)
			msg, code := body(t, fe)
			assert.Contains(t, msg, tt.says)
			assert.Equal(t, tt.code, code)
			assert.Equal(t, tt.calls, e.sim.Calls()["POST "+launchPattern])
			machines, _, _ := e.sim.Counts("full")
			assert.Zero(t, machines)

			_, err = e.client.Launch(ctx, "full", launchInput("ams"))
			require.NoError(t, err, "other regions have room")
			e.sim.SetCapacity("syd", true)
			_, err = e.client.Launch(ctx, "full", launchInput("syd"))
			require.NoError(t, err)
		})
	}
}

// testNameTakenShape: a taken name is 422 with Fly's name_taken status
// code, whoever holds it.
func testNameTakenShape(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "mine", Org: "personal"})
	require.NoError(t, err)
	e.sim.ReserveName("theirs")
	for _, name := range []string{"mine", "theirs"} {
		_, err = e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: name, Org: "personal"})
		fe := requireFlapsError(t, err, http.StatusUnprocessableEntity)
		msg, code := body(t, fe)
		assert.Equal(t, "Validation failed: Name has already been taken", msg)
		assert.Equal(t, "name_taken", code)
		assert.Equal(t, flaps.StatusCode("name_taken"), *flaps.GetErrorStatusCode(err))
	}
}

// testForeignAppVersusBadToken: another organization's app answers 403
// with {"error":"unauthorized"} on every route naming it; 401 is for a bad
// token, whatever the app.
func testForeignAppVersusBadToken(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	e.sim.ReserveName("theirs")
	_, err := e.client.GetApp(ctx, "theirs")
	fe := requireFlapsError(t, err, http.StatusForbidden)
	assert.Equal(t, "unauthorized", fe.Error())
	_, err = e.client.List(ctx, "theirs", "")
	requireFlapsError(t, err, http.StatusForbidden)
	requireFlapsError(t, e.client.DeleteApp(ctx, "theirs"), http.StatusForbidden)

	bad := newClient(t, e.srv, "not-the-token")
	for _, app := range []string{"theirs", "nobodys"} {
		_, err = bad.GetApp(ctx, app)
		requireFlapsError(t, err, http.StatusUnauthorized)
	}
}

// testPersonalOrgSlugs: "personal" and the raw personal slug name one
// organization; responses carry "personal".
func testPersonalOrgSlugs(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	a, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "by-raw", Org: flysim.PersonalOrgRawSlug})
	require.NoError(t, err)
	assert.Equal(t, flysim.PersonalOrg, a.Organization.Slug)
	b, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "by-alias", Org: "personal"})
	require.NoError(t, err)
	assert.Equal(t, a.Organization, b.Organization, "one organization")
	got, err := e.client.GetApp(ctx, "by-raw")
	require.NoError(t, err)
	assert.Equal(t, "personal", got.Organization.Slug)
	for _, slug := range []string{"personal", flysim.PersonalOrgRawSlug} {
		apps, err := e.client.ListApps(ctx, flaps.ListAppsRequest{OrgSlug: slug})
		require.NoError(t, err)
		require.Len(t, apps, 2, slug)
		for _, app := range apps {
			assert.Equal(t, "personal", app.Organization.Slug)
		}
	}
	_, err = e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "elsewhere", Org: "acme"})
	require.NoError(t, err)
	apps, err := e.client.ListApps(ctx, flaps.ListAppsRequest{OrgSlug: "acme"})
	require.NoError(t, err)
	require.Len(t, apps, 1)
	assert.Equal(t, "acme", apps[0].Organization.Slug)
}

// testFaultShapes: injected answers in any of Fly's shapes — a message, a
// status code, Retry-After — alone or after committing the request.
func testFaultShapes(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	e.sim.AddFault(flysim.Fault{Method: "POST", Path: "/v1/apps", Status: http.StatusTooManyRequests, RetryAfter: 2500 * time.Millisecond, Count: 1})
	res, b := e.rawDo(t, http.MethodPost, "/v1/apps", `{"name":"rl","org_slug":"personal"}`, nil)
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.Equal(t, "3", res.Header.Get("Retry-After"), "whole seconds, rounded up")
	assert.JSONEq(t, `{"error":"rate limit exceeded"}`, b)

	e.sim.AddFault(flysim.Fault{Method: "POST", Path: "/v1/apps", Status: http.StatusUnprocessableEntity, Count: 1, CommitThenFail: true,
		Message: "Validation failed: Name has already been taken", Code: "name_taken"})
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "lost-answer", Org: "personal"})
	fe := requireFlapsError(t, err, http.StatusUnprocessableEntity)
	msg, code := body(t, fe)
	assert.Equal(t, "Validation failed: Name has already been taken", msg)
	assert.Equal(t, "name_taken", code)
	_, _, exists := e.sim.Counts("lost-answer")
	assert.True(t, exists, "committed before the answer")

	e.sim.AddFault(flysim.Fault{Method: "GET", Path: "/v1/apps/{app}", Status: http.StatusServiceUnavailable, RetryAfter: time.Second})
	res, b = e.rawDo(t, http.MethodGet, "/v1/apps/lost-answer", "", nil)
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.Equal(t, "1", res.Header.Get("Retry-After"))
	assert.JSONEq(t, `{"error":"service unavailable"}`, b)
}
