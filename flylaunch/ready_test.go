package flylaunch

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/sealkit/sealkit/internal/fakeclock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadyCachesTheProbe: Ready, called at any rate, costs the Fly API
// one call per readyFresh while it answers and one per readyRetry while it
// does not, and follows the API both ways: a refused token, a Fly that
// answers 502.
func TestReadyCachesTheProbe(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	clock := fakeclock.At(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := e.launcher(t, func(o *Options) { o.Clock = clock.Now })
	calls := func() int { return e.sim.Calls()["GET /v1/apps/{app}"] }
	check := func(t *testing.T) error {
		t.Helper()
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() { _ = l.Ready(t.Context()) })
		}
		wg.Wait()
		return l.Ready(t.Context())
	}
	steps := []struct {
		name    string
		advance time.Duration
		fault   int // a status every probe gets from now on; -1 clears
		want    error
		calls   int // probe calls so far (0: not counted, fly-go retries a 502 itself)
	}{
		{"ready: 21 checks, one probe", 0, 0, nil, 1},
		{"a good probe stands for readyFresh", readyFresh - time.Second, 0, nil, 1},
		{"the token stopped working", time.Second, http.StatusUnauthorized, ErrTokenRefused, 2},
		{"a failed probe stands for readyRetry", readyRetry - time.Second, -1, ErrTokenRefused, 2},
		{"ready again", time.Second, 0, nil, 3},
		{"Fly fails", readyFresh, http.StatusBadGateway, ErrUnreachable, 0},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			switch {
			case s.fault > 0:
				e.sim.AddFault(flysim.Fault{Method: http.MethodGet, Path: "/v1/apps/{app}", Status: s.fault})
			case s.fault < 0:
				e.sim.ClearFaults()
			}
			clock.Advance(s.advance)
			err := check(t)
			if s.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, s.want)
			}
			if s.calls > 0 {
				assert.Equal(t, s.calls, calls())
			}
		})
	}
	logs := e.logs.String()
	assert.Contains(t, logs, "not ready")
	assert.Contains(t, logs, "ready: the Fly API answers")
	t.Run("a launcher without a client is ready: it has nothing to ask with", func(t *testing.T) {
		assert.NoError(t, e.launcher(t, func(o *Options) { o.Client = nil }).Ready(t.Context()))
	})
}
