package flysim_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/stretchr/testify/require"
	"github.com/superfly/fly-go/flaps"
	"github.com/superfly/fly-go/tokens"
)

// handlerTransport serves requests with a handler in the caller's
// goroutine: no sockets, so it runs inside a testing/synctest bubble,
// where every sleep and timer (fly-go's retry backoff, the simulator's
// windows, wait timeouts) uses the bubble's fake clock.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	res := rec.Result()
	res.Request = req
	return res, nil
}

// newBubbleEnv starts a simulator on the bubble's clock (opts.Clock must be
// nil) and fly-go's real client in front of it. Call it inside
// synctest.Test.
func newBubbleEnv(t *testing.T, opts flysim.Options) (*flysim.Server, *flaps.Client) {
	t.Helper()
	opts.Token = testToken
	sim, err := flysim.New(opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, sim.Close()) })
	return sim, inProcessClient(t, sim)
}

// inProcessClient is fly-go's real client served by sim in-process. Tests
// where fly-go resends a POST after a 502/503 need it: over a socket,
// fly-go's retry transport (rehttp) rewinds the request body while
// net/http may still be reading it, which the net/http RoundTripper
// contract forbids; -race reports it, and sometimes the resend goes out
// empty ("ContentLength=N with Body length 0").
func inProcessClient(t *testing.T, sim *flysim.Server) *flaps.Client {
	t.Helper()
	c, err := flaps.NewWithOptions(context.Background(), flaps.NewClientOpts{
		Tokens:    tokens.Parse(testToken),
		Transport: flysim.Transport("http://flysim.invalid", instanceTransport{handlerTransport{sim}}),
	})
	require.NoError(t, err)
	return c
}
