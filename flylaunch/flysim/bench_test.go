package flysim_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/stretchr/testify/require"
	"github.com/superfly/fly-go/flaps"
)

// benchLaunch runs a whole launch through fly-go per iteration: create app,
// set secrets, two IPs, launch, wait for started.
func benchLaunch(b *testing.B, opts flysim.Options) {
	opts.Speed, opts.Token = 1e6, testToken
	sim, err := flysim.New(opts)
	require.NoError(b, err)
	srv := httptest.NewServer(sim)
	defer func() {
		srv.Close()
		require.NoError(b, sim.Close())
	}()
	c := newClient(b, srv, testToken)
	ctx := context.Background()
	pw := "bench-password"
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		app := fmt.Sprintf("bench-%d", i)
		_, err := c.CreateApp(ctx, flaps.CreateAppRequest{Name: app, Org: "personal"})
		require.NoError(b, err)
		_, err = c.UpdateAppSecrets(ctx, app, map[string]*string{"LIVEBOOK_PASSWORD": &pw})
		require.NoError(b, err)
		for _, typ := range []string{"v6", "shared_v4"} {
			_, err = c.AssignIP(ctx, app, flaps.AssignIPRequest{Type: typ})
			require.NoError(b, err)
		}
		m, err := c.Launch(ctx, app, launchInput("iad"))
		require.NoError(b, err)
		require.NoError(b, c.Wait(ctx, app, m.ID, flaps.WithWaitStates("started")))
	}
	b.StopTimer()
	total := 0
	for _, n := range sim.Calls() {
		total += n
	}
	b.ReportMetric(float64(total)/float64(b.N), "calls/launch")
}

func BenchmarkLaunchInMemory(b *testing.B) { benchLaunch(b, flysim.Options{}) }

func BenchmarkLaunchPersisted(b *testing.B) { benchLaunch(b, flysim.Options{DataDir: b.TempDir()}) }

// BenchmarkGetMachine measures one API round trip through fly-go.
func BenchmarkGetMachine(b *testing.B) {
	e := newEnv(b, flysim.Options{})
	ctx := context.Background()
	_, err := e.client.CreateApp(ctx, flaps.CreateAppRequest{Name: "get", Org: "personal"})
	require.NoError(b, err)
	m, err := e.client.Launch(ctx, "get", launchInput("iad"))
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		_, err := e.client.Get(ctx, "get", m.ID)
		require.NoError(b, err)
	}
}
