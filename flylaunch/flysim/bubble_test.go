package flysim_test

import (
	"context"
	"testing"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/stretchr/testify/require"
	"github.com/superfly/fly-go/flaps"
	"github.com/superfly/fly-go/tokens"
)

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

// inProcessClient is fly-go's real client served by sim in-process
// (sim.Transport: no sockets, so it runs inside a testing/synctest
// bubble, where every sleep and timer — fly-go's retry backoff, the
// simulator's windows, wait timeouts — uses the bubble's fake clock). Tests
// where fly-go resends a POST after a 502/503 need it: over a socket,
// fly-go's retry transport (rehttp) rewinds the request body while
// net/http may still be reading it, which the net/http RoundTripper
// contract forbids; -race reports it, and sometimes the resend goes out
// empty ("ContentLength=N with Body length 0").
func inProcessClient(t *testing.T, sim *flysim.Server) *flaps.Client {
	t.Helper()
	c, err := flaps.NewWithOptions(context.Background(), flaps.NewClientOpts{
		Tokens:    tokens.Parse(testToken),
		Transport: instanceTransport{sim.Transport()},
	})
	require.NoError(t, err)
	return c
}
