package flylaunch

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/flylaunch/flysim"
)

// TestStorms injects a status on a share of every API call; the deploy
// still completes, without duplicates.
func TestStorms(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusRequestTimeout} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			e := newSimEnv(t, envOptions{})
			e.sim.AddFault(flysim.Fault{Status: status, Rate: 0.3})
			l := e.launcher(t, func(o *Options) { o.Retry.MaxAttempts = 20 })
			spec := testSpec("stormy-livebook")
			d, err := l.Start(waitCtx(t), spec)
			require.NoError(t, err)
			evs := collect(t, d)
			res, err := d.Wait(waitCtx(t))
			require.NoError(t, err)
			e.sim.ClearFaults()
			assertOneOfEach(t, e, spec.App)
			assert.Equal(t, StepHealthy, res.Record.Step)
			retries := 0
			for _, ev := range evs {
				if ev.Status == StatusRetrying {
					retries++
					assert.Contains(t, ev.Message, fmt.Sprint(status), "retry events say what failed")
				}
			}
			if status != http.StatusServiceUnavailable {
				// fly-go resends a GET answered 503 by itself, up to three
				// times, so a 503 storm may never reach the driver.
				assert.Positive(t, retries)
			}
			assertNoSecret(t, e, evs, nil)
		})
	}
}

// TestCommitThenFailStorm makes a share of every call apply and then fail.
func TestCommitThenFailStorm(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	e.sim.AddFault(flysim.Fault{Status: http.StatusInternalServerError, Rate: 0.4, CommitThenFail: true})
	l := e.launcher(t, func(o *Options) { o.Retry.MaxAttempts = 30 })
	spec := testSpec("murky-livebook")
	d, err := l.Start(waitCtx(t), spec)
	require.NoError(t, err)
	_, err = d.Wait(waitCtx(t))
	require.NoError(t, err)
	e.sim.ClearFaults()
	assertOneOfEach(t, e, spec.App)
}

func TestRetriesRunOut(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	e.sim.AddFault(flysim.Fault{Method: "POST", Path: "/v1/apps/{app}/secrets", Status: http.StatusInternalServerError})
	l := e.launcher(t, func(o *Options) { o.Retry.MaxAttempts = 3 })
	d, err := l.Start(waitCtx(t), testSpec("doomed-livebook"))
	require.NoError(t, err)
	evs := collect(t, d)
	_, err = d.Wait(waitCtx(t))
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, StepSecrets, ae.Step)
	assert.Equal(t, http.StatusInternalServerError, ae.Status)
	assert.Equal(t, 3, ae.Attempts)
	assert.NotEmpty(t, ae.RequestID)
	assert.Contains(t, err.Error(), "fly request id "+ae.RequestID)
	assert.Equal(t, 3, e.sim.Calls()["POST /v1/apps/{app}/secrets"])
	last := evs[len(evs)-1]
	assert.Equal(t, StatusFailed, last.Status)
	assert.Equal(t, err.Error(), last.Message)
	require.NotNil(t, last.Record)
	assert.Equal(t, StepCreateApp, last.Record.Step)
	assertNoSecret(t, e, evs, err)
}

// TestWait408KeepsWaiting: a server-side wait timeout is not a failure and
// does not use up retries.
func TestWait408KeepsWaiting(t *testing.T) {
	// Slow enough that the machine is still starting while the five
	// injected 408s (answered at once) are used up.
	e := newSimEnv(t, envOptions{speed: 50})
	e.sim.AddFault(flysim.Fault{Method: "GET", Path: "/v1/apps/{app}/machines/{id}/wait", Status: http.StatusRequestTimeout, Count: 5})
	l := e.launcher(t, func(o *Options) { o.Retry.MaxAttempts = 2 })
	d, err := l.Start(waitCtx(t), testSpec("patient-livebook"))
	require.NoError(t, err)
	_, err = d.Wait(waitCtx(t))
	require.NoError(t, err)
	calls := e.sim.Calls()
	assert.GreaterOrEqual(t, calls["GET /v1/apps/{app}/machines/{id}/wait"], 5, "five 408s, waited through")
	assert.GreaterOrEqual(t, calls["GET /v1/apps/{app}/machines/{id}"], 5, "a look after each 408")
}

// TestCallTimeout: a call that hangs is cut by the per-call timeout and
// retried.
func TestCallTimeout(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	e.sim.AddFault(flysim.Fault{Method: "GET", Path: "/v1/apps/{app}/ip_assignments", Latency: time.Minute, Count: 1})
	l := e.launcher(t, func(o *Options) { o.CallTimeout = 200 * time.Millisecond })
	d, err := l.Start(waitCtx(t), testSpec("hung-livebook"))
	require.NoError(t, err)
	evs := collect(t, d)
	_, err = d.Wait(waitCtx(t))
	require.NoError(t, err)
	found := false
	for _, ev := range evs {
		found = found || ev.Status == StatusRetrying && ev.Step == StepIPs
	}
	assert.True(t, found, "the timed-out call was retried")
}

func TestNoSecretInLogsUnderFailures(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	e.sim.AddFault(flysim.Fault{Status: http.StatusInternalServerError, Rate: 0.5, CommitThenFail: true})
	l := e.launcher(t, func(o *Options) { o.Retry.MaxAttempts = 2 })
	spec := testSpec("leaky-livebook")
	d, err := l.Start(context.Background(), spec)
	if err == nil {
		evs := collect(t, d)
		_, err = d.Wait(waitCtx(t))
		assertNoSecret(t, e, evs, err)
	}
	for _, s := range []string{fmt.Sprint(spec), fmt.Sprintf("%+v", spec), fmt.Sprintf("%#v", spec), fmt.Sprint(spec.Secrets)} {
		assert.NotContains(t, s, testPassword)
	}
	assert.NotContains(t, e.logs.String(), testPassword)
}

// TestConnectionErrorsRetried: refused connections on every step are
// retried with backoff.
func TestConnectionErrorsRetried(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	l := e.launcher(t)
	l.hook = func(ev Event) {
		if ev.Status == StatusRunning {
			e.gate.refuse(2)
		}
	}
	spec := testSpec("flaky-net-livebook")
	d, err := l.Start(waitCtx(t), spec)
	require.NoError(t, err)
	evs := collect(t, d)
	_, err = d.Wait(waitCtx(t))
	require.NoError(t, err)
	assertOneOfEach(t, e, spec.App)
	assert.GreaterOrEqual(t, e.gate.blocked.Load(), int64(12), "two refusals at each of the six steps")
	retries := 0
	for _, ev := range evs {
		if ev.Status == StatusRetrying {
			retries++
			assert.Contains(t, ev.Message, "connection error")
		}
	}
	assert.GreaterOrEqual(t, retries, 12)
}
