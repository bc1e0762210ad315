package flysim_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/superfly/fly-go/flaps"
)

const launchPattern = "/v1/apps/{app}/machines"

func TestFaultStatuses(t *testing.T) {
	tests := []struct {
		status int
		want   string
	}{
		{http.StatusRequestTimeout, "deadline_exceeded"},
		{http.StatusTooManyRequests, "rate limit exceeded"},
		{http.StatusInternalServerError, "internal server error"},
		{http.StatusGatewayTimeout, "deadline_exceeded"},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			e := newEnv(t, flysim.Options{})
			ctx := ctxT(t)
			_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "f", Org: "personal"})
			require.NoError(t, err)
			e.sim.AddFault(flysim.Fault{Method: "POST", Path: launchPattern, Status: tt.status, Count: 1})

			_, err = e.client.Launch(ctx, "f", launchInput("iad"))
			fe := requireFlapsError(t, err, tt.status)
			assert.Contains(t, fe.Error(), tt.want)
			machines, _, _ := e.sim.Counts("f")
			assert.Zero(t, machines, "a plain fault has no effect")

			_, err = e.client.Launch(ctx, "f", launchInput("iad"))
			require.NoError(t, err, "Count 1 hits once")
			assert.Equal(t, 2, e.sim.Calls()["POST "+launchPattern])
		})
	}
}

func TestFaultRetryAfterOn429(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	e.sim.AddFault(flysim.Fault{Status: http.StatusTooManyRequests})
	res, body := e.rawDo(t, http.MethodGet, "/v1/apps/x", "", nil)
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.Equal(t, "1", res.Header.Get("Retry-After"))
	assert.JSONEq(t, `{"error":"rate limit exceeded"}`, body)
	assert.NotEmpty(t, res.Header.Get("Fly-Request-Id"))
}

func TestFaultCommitThenFail(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	e.sim.AddFault(flysim.Fault{Method: "POST", Path: "/v1/apps", Status: http.StatusGatewayTimeout, Count: 1, CommitThenFail: true})
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "amb", Org: "personal"})
	requireFlapsError(t, err, http.StatusGatewayTimeout)
	_, _, exists := e.sim.Counts("amb")
	assert.True(t, exists, "the create happened despite the error")

	e.sim.AddFault(flysim.Fault{Method: "POST", Path: launchPattern, Count: 1, CommitThenFail: true})
	_, err = e.client.Launch(ctx, "amb", launchInput("iad"))
	requireFlapsError(t, err, http.StatusInternalServerError)
	machines, _, _ := e.sim.Counts("amb")
	assert.Equal(t, 1, machines)
	list, err := e.client.List(ctx, "amb", "metadata.sealkit_launch=abc123")
	require.NoError(t, err)
	assert.Len(t, list, 1, "the machine is findable by its metadata")
}

func TestFaultMatching(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	e.sim.AddFault(flysim.Fault{Method: "GET", Path: "/v1/apps/{app}", Status: http.StatusInternalServerError})
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "m", Org: "personal"})
	require.NoError(t, err, "POST /v1/apps is not matched")
	_, err = e.client.GetApp(ctx, "m")
	requireFlapsError(t, err, http.StatusInternalServerError)
	_, err = e.client.GetApp(ctx, "m")
	requireFlapsError(t, err, http.StatusInternalServerError)
	e.sim.ClearFaults()
	_, err = e.client.GetApp(ctx, "m")
	require.NoError(t, err)
}

// fly-go resends 502/503 by itself (up to 3 times): two 503s are invisible
// to the caller, but the simulator saw three calls.
func TestFault503RetriedByFlyGo(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "r", Org: "personal"})
	require.NoError(t, err)
	e.sim.AddFault(flysim.Fault{Path: "/v1/apps/{app}", Status: http.StatusServiceUnavailable, Count: 2})
	_, err = e.client.GetApp(ctx, "r")
	require.NoError(t, err)
	assert.Equal(t, 3, e.sim.Calls()["GET /v1/apps/{app}"])
}

func TestFaultRateIsSeeded(t *testing.T) {
	hits := func(seed int64) []bool {
		e := newEnv(t, flysim.Options{Seed: seed})
		e.sim.AddFault(flysim.Fault{Path: "/v1/apps/{app}", Status: http.StatusInternalServerError, Rate: 0.5})
		out := make([]bool, 40)
		for i := range out {
			res, _ := e.rawDo(t, http.MethodGet, "/v1/apps/none", "", nil)
			out[i] = res.StatusCode == http.StatusInternalServerError
		}
		return out
	}
	a, b := hits(42), hits(42)
	assert.Equal(t, a, b, "same seed, same faults")
	n := 0
	for _, h := range a {
		if h {
			n++
		}
	}
	assert.Greater(t, n, 5)
	assert.Less(t, n, 35)
	assert.NotEqual(t, a, hits(43))
}

func TestFaultRateWithCount(t *testing.T) {
	e := newEnv(t, flysim.Options{Seed: 3})
	e.sim.AddFault(flysim.Fault{Path: "/v1/apps/{app}", Status: http.StatusInternalServerError, Rate: 0.5, Count: 3})
	n := 0
	for range 100 {
		res, _ := e.rawDo(t, http.MethodGet, "/v1/apps/none", "", nil)
		if res.StatusCode == http.StatusInternalServerError {
			n++
		}
	}
	assert.Equal(t, 3, n)
}

func TestFaultLatency(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	_, err := e.client.CreateApp(ctxT(t), flaps.CreateAppRequest{Name: "slow", Org: "personal"})
	require.NoError(t, err)
	e.sim.AddFault(flysim.Fault{Path: "/v1/apps/{app}", Latency: time.Hour, Count: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = e.client.GetApp(ctx, "slow")
	require.Error(t, err)
	var fe *flaps.FlapsError
	assert.False(t, errors.As(err, &fe), "no answer arrived before the deadline: %v", err)
	assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)

	// Latency-only faults still answer normally once the delay is over.
	e.sim.AddFault(flysim.Fault{Path: "/v1/apps/{app}", Latency: time.Millisecond, Count: 1})
	app, err := e.client.GetApp(ctxT(t), "slow")
	require.NoError(t, err)
	assert.Equal(t, "slow", app.Name)
}

func TestCloseReleasesWaiters(t *testing.T) {
	e := newEnv(t, flysim.Options{})
	ctx := ctxT(t)
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "cw", Org: "personal"})
	require.NoError(t, err)
	m, err := e.client.Launch(ctx, "cw", launchInput("iad"))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- e.client.Wait(ctx, "cw", m.ID, flaps.WithWaitTimeout(60*time.Second)) }()
	// Wait until the request is being served, then close.
	require.Eventually(t, func() bool { return e.sim.Calls()["GET /v1/apps/{app}/machines/{id}/wait"] == 1 }, 5*time.Second, time.Millisecond)
	require.NoError(t, e.sim.Close())
	err = <-done
	require.Error(t, err)
	var fe *flaps.FlapsError
	require.ErrorAs(t, err, &fe)
}
