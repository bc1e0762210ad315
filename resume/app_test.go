package resume_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sealkit/sealkit/resume"
	"github.com/sealkit/sealkit/seal"
	"github.com/stretchr/testify/require"
)

// launchState is the typed state the tests seal into the browser.
type launchState struct {
	App      string `json:"app" etf:"app"`
	Password string `json:"password" etf:"password"`
	Seq      uint64 `json:"seq" etf:"seq"`
}

// testApp records what the handler hands it and answers a few actions:
// "store" seals its data as the state, "clear" clears it, "state" sends
// Conn.State as a snapshot, "event" sends an event, "fail" returns an
// error, "panic" panics, "block" waits until the connection ends.
type testApp struct {
	opened chan resume.Result[launchState]
	conns  chan *resume.Conn[launchState]
	// openHook, when set, runs at the end of Open.
	openHook func(ctx context.Context, c *resume.Conn[launchState]) error
}

func newTestApp() *testApp {
	return &testApp{
		opened: make(chan resume.Result[launchState], 16),
		conns:  make(chan *resume.Conn[launchState], 16),
	}
}

func (a *testApp) Open(ctx context.Context, c *resume.Conn[launchState], r resume.Result[launchState]) error {
	a.opened <- r
	a.conns <- c
	if r.Status == resume.StatusResumed {
		if err := c.Snapshot(ctx, r.State.Seq, r.State); err != nil {
			return err
		}
	}
	if a.openHook != nil {
		return a.openHook(ctx, c)
	}
	return nil
}

func (a *testApp) Action(ctx context.Context, c *resume.Conn[launchState], name string, data json.RawMessage) error {
	switch name {
	case "store":
		var s launchState
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		return c.Store(ctx, s)
	case "event":
		var n uint64
		if err := json.Unmarshal(data, &n); err != nil {
			return err
		}
		return c.Event(ctx, n, map[string]uint64{"n": n})
	case "clear":
		return c.Clear(ctx)
	case "state": // answers with a snapshot of what c.State says
		st, ok := c.State()
		return c.Snapshot(ctx, 0, map[string]any{"ok": ok, "state": st})
	case "fail":
		return errors.New("launch refused: quota")
	case "panic":
		panic("boom")
	case "block":
		<-ctx.Done()
		return ctx.Err()
	}
	return errors.New("unknown action " + name)
}

func (a *testApp) nextOpen(t *testing.T) resume.Result[launchState] {
	t.Helper()
	select {
	case r := <-a.opened:
		return r
	case <-time.After(waitTimeout):
		require.FailNow(t, "Open was not called")
	}
	return resume.Result[launchState]{}
}

func (a *testApp) nextConn(t *testing.T) *resume.Conn[launchState] {
	t.Helper()
	select {
	case c := <-a.conns:
		return c
	case <-time.After(waitTimeout):
		require.FailNow(t, "Open was not called")
	}
	return nil
}

const testKey = "launch"

var keyBase = []byte("a-test-key-base-that-is-long-enough-0123456789")

func newSealer(t testing.TB, opts ...seal.Option) *seal.Sealer {
	t.Helper()
	s, err := seal.New(keyBase, opts...)
	require.NoError(t, err)
	return s
}

// server is one resume handler instance behind an httptest server.
type server struct {
	h   *resume.Handler[launchState]
	app *testApp
	url string
}

func startServer(t testing.TB, sealer *seal.Sealer, opts resume.Options) *server {
	t.Helper()
	app := newTestApp()
	h, url := serve(t, sealer, resume.App[launchState](app), opts)
	return &server{h: h, app: app, url: url}
}

// serve runs a handler for app (Options.Key defaults to testKey) until the
// test ends and returns it with its base URL.
func serve[S any](t testing.TB, sealer *seal.Sealer, app resume.App[S], opts resume.Options) (*resume.Handler[S], string) {
	t.Helper()
	if opts.Key == "" {
		opts.Key = testKey
	}
	h, err := resume.New(sealer, app, opts)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/resume", h)
	mux.Handle("/resume/", h)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_ = h.Shutdown(ctx)
		ts.Close()
	})
	return h, ts.URL + "/resume"
}
