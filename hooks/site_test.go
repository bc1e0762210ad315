package hooks_test

import (
	"context"
	_ "embed"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/hooks"
	"github.com/sealkit/sealkit/resume"
	"github.com/sealkit/sealkit/seal"
)

//go:embed testdata/resume.html
var resumePage string

// testKeyBase is the key base every server instance of a site shares.
var testKeyBase = []byte("sealkit-hooks-browser-test-key-base-0123456789")

// site is a web app on a fixed loopback port: the test page at /, the
// module under /hooks/ and the resume handler at /resume. Its server
// instance can crash and a new one (new Handler, new App) start on the same
// port, sharing only the key base and the backend.
type site struct {
	t      *testing.T
	addr   string // 127.0.0.1:port, fixed at creation
	be     *backend
	sealer *seal.Sealer
	opts   resume.Options
	setup  func(*testApp) // tweaks each new App
	// ahead moves the sealer's clock forward (nanoseconds), to age blobs.
	ahead atomic.Int64
	// noWebSocket refuses WebSocket upgrades, as a proxy that does not
	// carry WebSocket does: the page must fall back.
	noWebSocket atomic.Bool

	// Requests seen by all instances, by transport.
	wsUpgrades, streams atomic.Int64

	mu  sync.Mutex
	cur *instance
}

// instance is one running server process, as far as the test can tell.
type instance struct {
	app    *testApp
	h      *resume.Handler[jobState]
	srv    *http.Server
	served chan struct{}
	mu     sync.Mutex
	conns  map[net.Conn]struct{} // every conn, hijacked (WebSocket) ones too
}

func newSite(t *testing.T, opts resume.Options, setup func(*testApp)) *site {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	opts.Key = "launch"
	s := &site{t: t, addr: ln.Addr().String(), be: newBackend(), opts: opts, setup: setup}
	s.sealer, err = seal.New(testKeyBase, seal.WithClock(s.now))
	require.NoError(t, err)
	s.serve(ln)
	t.Cleanup(s.crash)
	return s
}

// now is the site's clock: the real one, moved forward by advance.
func (s *site) now() time.Time { return time.Now().Add(time.Duration(s.ahead.Load())) }

// advance moves the site's clock forward by d, so that blobs age by d.
func (s *site) advance(d time.Duration) { s.ahead.Add(int64(d)) }

func (s *site) url(query string) string {
	if query != "" {
		query = "?" + query
	}
	return "http://" + s.addr + "/" + query
}

// app returns the App of the running instance.
func (s *site) app() *testApp {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur.app
}

// serve starts a new instance on ln.
func (s *site) serve(ln net.Listener) {
	app := &testApp{be: s.be}
	if s.setup != nil {
		s.setup(app)
	}
	h, err := resume.New(s.sealer, resume.App[jobState](app), s.opts)
	require.NoError(s.t, err)
	mux := http.NewServeMux()
	mux.Handle("/hooks/", http.StripPrefix("/hooks", hooks.New()))
	mux.Handle("/resume", s.count(h))
	mux.Handle("/resume/", s.count(h))
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(resumePage))
	})
	in := &instance{app: app, h: h, served: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	in.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ConnState: in.track}
	go func() {
		defer close(in.served)
		_ = in.srv.Serve(ln)
	}()
	s.mu.Lock()
	s.cur = in
	s.mu.Unlock()
}

func (s *site) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.EqualFold(r.Header.Get("Upgrade"), "websocket"):
			s.wsUpgrades.Add(1)
			if s.noWebSocket.Load() {
				http.Error(w, "this proxy does not carry WebSocket", http.StatusBadGateway)
				return
			}
		case strings.HasSuffix(r.URL.Path, "/stream"):
			s.streams.Add(1)
		}
		h.ServeHTTP(w, r)
	})
}

func (in *instance) track(c net.Conn, st http.ConnState) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if st == http.StateClosed {
		delete(in.conns, c)
	} else {
		in.conns[c] = struct{}{}
	}
}

// crash ends the running instance the hard way: the listener and every
// connection close at once, WebSockets included, as when the process dies.
// It then reaps the instance's goroutines.
func (s *site) crash() {
	s.mu.Lock()
	in := s.cur
	s.cur = nil
	s.mu.Unlock()
	if in == nil {
		return
	}
	_ = in.srv.Close()
	in.mu.Lock()
	for c := range in.conns {
		_ = c.Close()
	}
	in.mu.Unlock()
	<-in.served
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := in.h.Shutdown(ctx); err != nil && !errors.Is(err, resume.ErrShutdown) {
		s.t.Errorf("shutdown: %v", err)
	}
	in.app.wg.Wait()
}

// restart crashes the running instance and starts a new one on the same port.
func (s *site) restart() {
	s.crash()
	ln, err := net.Listen("tcp", s.addr)
	require.NoError(s.t, err, "listen again on %s", s.addr)
	s.serve(ln)
}
