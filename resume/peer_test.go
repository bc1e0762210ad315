package resume_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/sealkit/sealkit/resume"
	"github.com/sealkit/sealkit/seal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConnClientAddrAndHost checks what a Conn keeps of the request that
// opened it: the address from Options.ClientAddr (default: the TCP peer)
// and the Host, on both transports.
func TestConnClientAddrAndHost(t *testing.T) {
	forwarded := func(r *http.Request) netip.Addr {
		a, _ := netip.ParseAddr(r.Header.Get("X-Test-Client"))
		return a
	}
	tests := []struct {
		name string
		opts resume.Options
		hdr  http.Header
		want netip.Addr
	}{
		{"default is the peer", resume.Options{}, nil, netip.MustParseAddr("127.0.0.1")},
		{"option decides", resume.Options{ClientAddr: forwarded}, http.Header{"X-Test-Client": {"203.0.113.7"}}, netip.MustParseAddr("203.0.113.7")},
	}
	for _, kind := range transports {
		for _, tt := range tests {
			t.Run(string(kind)+"/"+tt.name, func(t *testing.T) {
				srv := startServer(t, newSealer(t), tt.opts)
				c := dial(t, kind, srv.url, tt.hdr)
				handshake(t, c, testKey, nil)
				conn := srv.app.nextConn(t)
				assert.Equal(t, tt.want, conn.ClientAddr())
				assert.Equal(t, srv.url[len("http://"):len(srv.url)-len("/resume")], conn.Host())
				assert.Len(t, conn.Tag(), 12)
			})
		}
	}
}

// TestStreamOutlivesReadTimeout runs the handler under an http.Server with
// a short ReadTimeout, as a production server should have: both transports
// are long-lived, and must not end when the timeout (meant for reading
// requests) expires. net/http clears the read deadline once a body is read
// (and on hijack), which this test keeps us relying on knowingly.
func TestStreamOutlivesReadTimeout(t *testing.T) {
	const readTimeout = 200 * time.Millisecond
	app := newTestApp()
	h, err := resume.New(newSealer(t), resume.App[launchState](app), resume.Options{Key: testKey, PingInterval: readTimeout / 2})
	require.NoError(t, err)
	ts := httptest.NewUnstartedServer(h)
	ts.Config.ReadTimeout = readTimeout
	ts.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		_ = h.Shutdown(ctx)
		ts.Close()
	})
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			c := dial(t, kind, ts.URL+"/resume", nil)
			handshake(t, c, testKey, nil)
			// Several pings span several read timeouts; each must arrive.
			frames := rawFrames(c)
			for range 6 {
				require.Equal(t, "ping", frames(t))
			}
			send(t, c, map[string]any{"t": "action", "id": "a", "name": "event", "data": 1})
			expect(t, c, "event")
			assert.True(t, expect(t, c, "reply").OK)
		})
	}
}

// checkingApp refuses states whose App is "retired".
type checkingApp struct{ *testApp }

func (checkingApp) Check(s launchState) error {
	if s.App == "retired" {
		return errors.New("app retired")
	}
	return nil
}

// TestCheckerRefusesStates shows an App vetting a state that opened: a
// refused one reaches the client as "invalid" (and is cleared) and Open as
// StatusInvalid matching seal.ErrInvalid; an accepted one resumes.
func TestCheckerRefusesStates(t *testing.T) {
	sealer := newSealer(t)
	storer := startServer(t, sealer, resume.Options{})
	app := checkingApp{newTestApp()}
	h, err := resume.New(sealer, resume.App[launchState](app), resume.Options{Key: testKey})
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(func() {
		_ = h.Shutdown(context.Background())
		ts.Close()
	})
	for _, tt := range []struct {
		app  string
		want resume.Status
	}{{"retired", resume.StatusInvalid}, {"current", resume.StatusResumed}} {
		t.Run(tt.app, func(t *testing.T) {
			c := dial(t, wsKind, storer.url, nil)
			handshake(t, c, testKey, nil)
			send(t, c, map[string]any{"t": "action", "id": "s", "name": "store", "data": launchState{App: tt.app}})
			tok := expect(t, c, "store").token(t)

			c2 := dial(t, wsKind, ts.URL, nil)
			res := handshake(t, c2, testKey, &tok)
			assert.Equal(t, string(tt.want), res.Status)
			opened := app.nextOpen(t)
			assert.Equal(t, tt.want, opened.Status)
			if tt.want == resume.StatusInvalid {
				assert.ErrorIs(t, opened.Err, seal.ErrInvalid)
				assert.Zero(t, opened.State)
				expect(t, c2, "clear")
			}
		})
	}
}
