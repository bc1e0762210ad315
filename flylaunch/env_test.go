package flylaunch

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/superfly/fly-go/flaps"

	"github.com/sealkit/sealkit/flylaunch/flysim"
)

const (
	testToken    = "sim-token"
	testPassword = "hunter2-Sup3r-S3cret-Pw" // must never show up in logs, events or errors
)

// simEnv is one flysim behind a real loopback HTTP server and a fly-go
// client pointed at it.
type simEnv struct {
	sim    *flysim.Server
	srv    *httptest.Server
	tr     *http.Transport
	gate   *gate
	client *flaps.Client
	logs   *syncBuffer
	speed  float64
}

type envOptions struct {
	dir     string           // DataDir; "" for memory only
	speed   float64          // default 500
	profile flysim.Profile   // default: flysim's default
	tenants []flysim.Tenant  // flysim's token issuer mode; testToken stays the operator's
	clock   func() time.Time // flysim's clock; nil means time.Now
}

// newSimEnv starts a simulator; everything is torn down at test cleanup.
func newSimEnv(t testing.TB, o envOptions) *simEnv {
	t.Helper()
	if o.speed == 0 {
		o.speed = 500
	}
	sim, err := flysim.New(flysim.Options{DataDir: o.dir, Speed: o.speed, Token: testToken, Seed: 7, Profile: o.profile, Tenants: o.tenants, Clock: o.clock})
	require.NoError(t, err)
	srv := httptest.NewServer(sim)
	tr := &http.Transport{}
	g := &gate{next: tr}
	client, err := NewClient(context.Background(), testToken, flysim.Transport(srv.URL, g))
	require.NoError(t, err)
	e := &simEnv{sim: sim, srv: srv, tr: tr, gate: g, client: client, logs: &syncBuffer{}, speed: o.speed}
	t.Cleanup(e.close)
	return e
}

// close stops the simulator (pending waits answer 503), then the server.
// It is idempotent.
func (e *simEnv) close() {
	_ = e.sim.Close()
	e.srv.Close()
	e.tr.CloseIdleConnections()
}

// clientFor is a client with token, through e's gate.
func (e *simEnv) clientFor(t testing.TB, token string) *flaps.Client {
	t.Helper()
	c, err := NewClient(context.Background(), token, flysim.Transport(e.srv.URL, e.gate))
	require.NoError(t, err)
	return c
}

// launcher returns a fast Launcher on e's client, closed at cleanup.
func (e *simEnv) launcher(t testing.TB, mod ...func(*Options)) *Launcher {
	t.Helper()
	opts := Options{
		Client:        e.client,
		Logger:        slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		CallTimeout:   5 * time.Second,
		StartDeadline: 20 * time.Second,
		PollInterval:  5 * time.Millisecond,
		// Realistic windows reach 5 s of simulated time, which is
		// 5s/speed of ours; leave room for it.
		Propagation: max(250*time.Millisecond, time.Duration(float64(10*time.Second)/e.speed)),
		Retry:       RetryPolicy{MaxAttempts: 10, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond},
		// Done means the public URL answers: through the simulator's edge.
		Public: &http.Client{Transport: flysim.EdgeTransport(e.srv.URL, e.tr), Timeout: 5 * time.Second},
	}
	for _, m := range mod {
		m(&opts)
	}
	l, err := New(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func testSpec(app string) Spec {
	return Spec{
		App:     app,
		Region:  "ams",
		Env:     map[string]string{"LIVEBOOK_IP": "::"},
		Secrets: Secrets{"LIVEBOOK_PASSWORD": testPassword},
	}
}

// waitCtx bounds a test's waiting so a bug fails instead of hanging.
func waitCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// gate is a RoundTripper that can cut the client off from the simulator,
// as a crash would: once shut, requests fail without reaching the server,
// except that with passOne the first one still reaches it (and commits)
// while the client only sees an error.
type gate struct {
	next    http.RoundTripper
	mu      sync.Mutex
	shut    bool
	passOne bool
	passed  chan struct{} // closed once the passOne request was applied
	failN   int           // refuse this many more requests, then pass again
	blocked atomic.Int64
}

var errGateShut = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}

func (g *gate) RoundTrip(req *http.Request) (*http.Response, error) {
	g.mu.Lock()
	shut, pass := g.shut, g.passOne
	if shut && pass {
		g.passOne = false
	}
	if !shut && g.failN > 0 {
		g.failN--
		shut = true
	}
	g.mu.Unlock()
	if !shut {
		return g.next.RoundTrip(req)
	}
	g.blocked.Add(1)
	if pass {
		// Deliver it even if the client gives up meanwhile, as a request
		// already on the wire would be.
		resp, err := g.next.RoundTrip(req.WithContext(context.WithoutCancel(req.Context())))
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
		close(g.passed)
	} else if req.Body != nil {
		_ = req.Body.Close()
	}
	return nil, errGateShut
}

// close cuts the connection; with passOne the next request still goes
// through. It returns a channel closed once that request was applied.
func (g *gate) close(passOne bool) <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.shut, g.passOne = true, passOne
	g.passed = make(chan struct{})
	if !passOne {
		close(g.passed)
	}
	return g.passed
}

// refuse makes the next n requests fail with a connection error.
func (g *gate) refuse(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failN = n
}

// open restores the connection.
func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.shut, g.passOne = false, false
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// collect gathers every event of d until its final one.
func collect(t testing.TB, d *Deploy) []Event {
	t.Helper()
	var evs []Event
	for ev := range d.Events(waitCtx(t)) {
		evs = append(evs, ev)
	}
	return evs
}

// deleteLaunch deletes what the launch rec describes created, through
// Livebook.Delete.
func deleteLaunch(ctx context.Context, l *Launcher, rec Record) error {
	b, err := l.Livebook(rec)
	if err != nil {
		return err
	}
	return b.Delete(ctx)
}
