package flysim_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/sealkit/sealkit/internal/fakeclock"
	"github.com/stretchr/testify/require"
	"github.com/superfly/fly-go/flaps"
	"github.com/superfly/fly-go/tokens"
)

const testToken = "flysim-test-token"

type env struct {
	sim    *flysim.Server
	srv    *httptest.Server
	client *flaps.Client
	clock  *fakeclock.Clock
}

// newEnv starts a simulator (fake clock unless opts.Clock is set) behind
// httptest and a real fly-go flaps client pointed at it.
func newEnv(t testing.TB, opts flysim.Options) *env {
	t.Helper()
	e := &env{}
	if opts.Clock == nil {
		e.clock = fakeclock.At(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
		opts.Clock = e.clock.Now
	}
	if opts.Token == "" {
		opts.Token = testToken
	}
	if opts.Profile == (flysim.Profile{}) {
		// These tests check one answer at a time, against a fake clock;
		// the tests of the realistic windows name their profile.
		opts.Profile = flysim.Instant()
	}
	sim, err := flysim.New(opts)
	require.NoError(t, err)
	e.sim = sim
	e.srv = httptest.NewServer(sim)
	t.Cleanup(func() {
		e.srv.Close()
		require.NoError(t, sim.Close())
	})
	e.client = newClient(t, e.srv, testToken)
	return e
}

func newClient(t testing.TB, srv *httptest.Server, token string) *flaps.Client {
	t.Helper()
	c, err := flaps.NewWithOptions(context.Background(), flaps.NewClientOpts{
		Tokens:    tokens.Parse(token),
		Transport: flysim.Transport(srv.URL, instanceTransport{srv.Client().Transport}),
	})
	require.NoError(t, err)
	return c
}

// instanceTransport sends a /wait's "version" (fly-go v0.9.3's
// WithWaitVersion) as instance_id too, the name Fly's Machines API
// reference gives, as flylaunch's client does: fly-go cannot send it.
type instanceTransport struct{ next http.RoundTripper }

func (t instanceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	q := req.URL.Query()
	if strings.HasSuffix(req.URL.Path, "/wait") && q.Get("version") != "" && q.Get("instance_id") == "" {
		req = req.Clone(req.Context())
		q.Set("instance_id", q.Get("version"))
		req.URL.RawQuery = q.Encode()
	}
	return t.next.RoundTrip(req)
}

// rawDo sends a request straight to the simulator with the test token.
func (e *env) rawDo(t *testing.T, method, path, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	var req *http.Request
	if body == "" {
		req = httptest.NewRequest(method, path, nil)
	} else {
		req = httptest.NewRequest(method, path, stringsReader(body))
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	e.sim.ServeHTTP(rec, req)
	return rec.Result(), rec.Body.String()
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
