package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/flylaunch"
	"github.com/sealkit/sealkit/flylaunch/flysim"
)

// TestDoneOnlyOnceThePublicURLAnswers: Fly's edge routes <app>.fly.dev
// to a new app a while after its machine passed its checks (flysim's
// EdgeDelay, long here). The page says Done only once the Livebook answers
// at the address the summary links to.
func TestDoneOnlyOnceThePublicURLAnswers(t *testing.T) {
	prof := flysim.Realistic()
	prof.EdgeDelay = 2 * time.Minute // 1.2 s at worldSpeed, long after the checks pass
	sim, err := flysim.New(flysim.Options{Speed: worldSpeed, Token: worldToken, Seed: 3, Profile: prof})
	require.NoError(t, err)
	ts := httptest.NewServer(sim)
	t.Cleanup(func() {
		_ = sim.Close()
		ts.Close()
	})
	client, err := flylaunch.NewClient(context.Background(), worldToken, flysim.Transport(ts.URL, nil))
	require.NoError(t, err)
	w := &simWorld{sim: sim, url: ts.URL, client: client}
	s := w.launcher(t)

	_, done := launchToDone(t, s, "edge-late-app")
	require.Equal(t, phaseDone, done.Phase)
	u, err := url.Parse(done.URL)
	require.NoError(t, err)
	resp, err := http.Get(ts.URL + u.Path + "public/health")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the summary's address answers when the page says Done")
}
