package resume_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sealkit/sealkit/resume"
	"github.com/sealkit/sealkit/seal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var wantState = launchState{App: "livebook-7", Password: "hunter2-sealed", Seq: 41}

// storeState runs a fresh connection that stores wantState and returns the
// sealed blob the client received.
func storeState(t *testing.T, kind transportKind, srv *server, hdr http.Header) string {
	t.Helper()
	c := dial(t, kind, srv.url, hdr)
	res := handshake(t, c, testKey, nil)
	assert.Equal(t, "fresh", res.Status)
	assert.Equal(t, resume.StatusFresh, srv.app.nextOpen(t).Status)
	send(t, c, map[string]any{"t": "action", "id": "a1", "name": "store", "data": wantState})
	st := expect(t, c, "store")
	assert.Equal(t, testKey, st.Key)
	rep := expect(t, c, "reply")
	assert.Equal(t, "a1", rep.ID)
	assert.True(t, rep.OK)
	tok := st.token(t)
	assert.NotContains(t, tok, wantState.Password, "the blob must not reveal the state")
	c.close()
	return tok
}

// TestResumeAcrossRestart stores a state through one handler and resumes
// it through a second handler with the same key base, as after a restart.
func TestResumeAcrossRestart(t *testing.T) {
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			first := startServer(t, newSealer(t), resume.Options{})
			tok := storeState(t, kind, first, nil)

			second := startServer(t, newSealer(t), resume.Options{})
			c := dial(t, kind, second.url, nil)
			res := handshake(t, c, testKey, &tok)
			assert.Equal(t, "resumed", res.Status)
			assert.NotEmpty(t, res.Message)
			opened := second.app.nextOpen(t)
			require.Equal(t, resume.StatusResumed, opened.Status)
			assert.NoError(t, opened.Err)
			assert.Equal(t, wantState, opened.State)
			snap := expect(t, c, "snapshot")
			assert.Equal(t, wantState.Seq, snap.Seq)
			assert.JSONEq(t, mustJSON(t, wantState), string(snap.Data))
		})
	}
}

// TestRejectedBlobs hands back blobs that must not open and checks the
// typed result, the clear frame, and that the connection goes on fresh.
func TestRejectedBlobs(t *testing.T) {
	now := time.Now()
	later := func() time.Time { return now.Add(2 * time.Hour) }
	otherBase := []byte("another-key-base-entirely-different-9876543210")
	bindHeader := func(r *http.Request) (string, error) {
		v := r.Header.Get("X-Session")
		if v == "" {
			return "", errors.New("no session")
		}
		return v, nil
	}
	tests := []struct {
		name     string
		store    resume.Options // options of the server that stores
		resume   resume.Options // options of the server that resumes
		sealer   []seal.Option  // options of the resuming server's sealer
		base     []byte         // key base of the resuming server
		hdrStore string         // X-Session when storing
		hdrOpen  string         // X-Session when resuming
		mangle   func(string) string
		want     resume.Status
		wantErr  error
	}{
		{name: "expired", sealer: []seal.Option{seal.WithClock(later)}, want: resume.StatusExpired, wantErr: seal.ErrExpired},
		{name: "tampered", mangle: tamper, want: resume.StatusInvalid, wantErr: seal.ErrInvalid},
		{name: "garbage", mangle: func(string) string { return "not a token" }, want: resume.StatusInvalid, wantErr: seal.ErrInvalid},
		{name: "wrong key base", base: otherBase, want: resume.StatusInvalid, wantErr: seal.ErrInvalid},
		{name: "wrong purpose", store: resume.Options{Key: "other"}, want: resume.StatusInvalid, wantErr: seal.ErrInvalid},
		{
			name:  "unbound",
			store: resume.Options{Bind: bindHeader}, resume: resume.Options{Bind: bindHeader},
			hdrStore: "alice", hdrOpen: "mallory",
			want: resume.StatusUnbound, wantErr: resume.ErrUnbound,
		},
	}
	for _, kind := range transports {
		for _, tt := range tests {
			t.Run(string(kind)+"/"+tt.name, func(t *testing.T) {
				storer := startServer(t, newSealer(t), tt.store)
				tok := storeStateKey(t, kind, storer, header(tt.hdrStore), keyOr(tt.store.Key))
				if tt.mangle != nil {
					tok = tt.mangle(tok)
				}
				base := keyBase
				if tt.base != nil {
					base = tt.base
				}
				sealer, err := seal.New(base, tt.sealer...)
				require.NoError(t, err)
				srv := startServer(t, sealer, tt.resume)
				c := dial(t, kind, srv.url, header(tt.hdrOpen))
				res := handshake(t, c, testKey, &tok)
				assert.Equal(t, string(tt.want), res.Status)
				cl := expect(t, c, "clear")
				assert.Equal(t, testKey, cl.Key)
				opened := srv.app.nextOpen(t)
				assert.Equal(t, tt.want, opened.Status)
				assert.ErrorIs(t, opened.Err, tt.wantErr)
				assert.Zero(t, opened.State)

				// The connection continues as fresh: the page can start over.
				send(t, c, map[string]any{"t": "action", "id": "again", "name": "store", "data": wantState})
				expect(t, c, "store")
				assert.True(t, expect(t, c, "reply").OK)
			})
		}
	}
}

func keyOr(k string) string {
	if k == "" {
		return testKey
	}
	return k
}

func header(session string) http.Header {
	if session == "" {
		return nil
	}
	return http.Header{"X-Session": {session}}
}

// storeStateKey is storeState for a server whose Options.Key is key.
func storeStateKey(t *testing.T, kind transportKind, srv *server, hdr http.Header, key string) string {
	t.Helper()
	c := dial(t, kind, srv.url, hdr)
	handshake(t, c, key, nil)
	srv.app.nextOpen(t)
	send(t, c, map[string]any{"t": "action", "id": "a1", "name": "store", "data": wantState})
	tok := expect(t, c, "store").token(t)
	expect(t, c, "reply")
	c.close()
	return tok
}

// tamper flips one character in the middle of a token.
func tamper(tok string) string {
	b := []byte(tok)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// TestBoundResume checks that a bound blob resumes in its own session.
func TestBoundResume(t *testing.T) {
	bind := func(r *http.Request) (string, error) { return r.Header.Get("X-Session"), nil }
	srv := startServer(t, newSealer(t), resume.Options{Bind: bind})
	tok := storeState(t, wsKind, srv, header("alice"))
	c := dial(t, wsKind, srv.url, header("alice"))
	assert.Equal(t, "resumed", handshake(t, c, testKey, &tok).Status)
	assert.Equal(t, wantState, srv.app.nextOpen(t).State)
}

func TestBindErrorRefuses(t *testing.T) {
	bind := func(*http.Request) (string, error) { return "", errors.New("no session cookie") }
	srv := startServer(t, newSealer(t), resume.Options{Bind: bind})
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			_, resp, err := tryDial(kind, srv.url, nil)
			require.Error(t, err)
			require.NotNil(t, resp)
			assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		})
	}
}

func TestActions(t *testing.T) {
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			srv := startServer(t, newSealer(t), resume.Options{})
			c := dial(t, kind, srv.url, nil)
			handshake(t, c, testKey, nil)
			srv.app.nextOpen(t)

			send(t, c, map[string]any{"t": "action", "id": "1", "name": "event", "data": 7})
			ev := expect(t, c, "event")
			assert.Equal(t, uint64(7), ev.Seq)
			assert.JSONEq(t, `{"n":7}`, string(ev.Data))
			assert.Equal(t, frame{T: "reply", ID: "1", OK: true}, expect(t, c, "reply"))

			send(t, c, map[string]any{"t": "action", "id": "2", "name": "fail"})
			assert.Equal(t, frame{T: "reply", ID: "2", Error: "launch refused: quota"}, expect(t, c, "reply"))

			send(t, c, map[string]any{"t": "pong"})
			send(t, c, map[string]any{"t": "action", "id": "3", "name": "nope", "data": map[string]any{}})
			assert.Equal(t, "3", expect(t, c, "reply").ID)
		})
	}
}

// TestActionsBeforeRestored checks that actions sent before the restored
// answer run after Open, in order.
func TestActionsBeforeRestored(t *testing.T) {
	srv := startServer(t, newSealer(t), resume.Options{})
	c := dial(t, wsKind, srv.url, nil)
	expect(t, c, "welcome")
	expect(t, c, "restore")
	send(t, c, map[string]any{"t": "action", "id": "early", "name": "event", "data": 1})
	send(t, c, map[string]any{"t": "restored", "v": 1, "key": testKey, "data": nil})
	assert.Equal(t, "fresh", expect(t, c, "result").Status)
	assert.Equal(t, uint64(1), expect(t, c, "event").Seq)
	assert.Equal(t, "early", expect(t, c, "reply").ID)
}

// TestAppPanic checks that a panicking App ends only its connection.
func TestAppPanic(t *testing.T) {
	srv := startServer(t, newSealer(t), resume.Options{})
	c := dial(t, wsKind, srv.url, nil)
	handshake(t, c, testKey, nil)
	send(t, c, map[string]any{"t": "action", "id": "p", "name": "panic"})
	e := expect(t, c, "error")
	assert.Equal(t, "internal", e.Code)
	expectClosed(t, c)
}

func TestOpenErrorEndsConnection(t *testing.T) {
	srv := startServer(t, newSealer(t), resume.Options{})
	srv.app.openHook = func(context.Context, *resume.Conn[launchState]) error {
		return errors.New("job store down")
	}
	c := dial(t, sseKind, srv.url, nil)
	handshake(t, c, testKey, nil)
	e := expect(t, c, "error")
	assert.Equal(t, "internal", e.Code)
	assert.NotContains(t, e.Message, "job store down")
	expectClosed(t, c)
}

// TestSlowAppDoesNotBlockReading keeps App.Action busy and checks that the
// server still reads (and answers) frames on the same connection.
func TestSlowAppDoesNotBlockReading(t *testing.T) {
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			srv := startServer(t, newSealer(t), resume.Options{})
			c := dial(t, kind, srv.url, nil)
			handshake(t, c, testKey, nil)
			send(t, c, map[string]any{"t": "action", "id": "slow", "name": "block"})
			send(t, c, map[string]any{"t": "pong"})
			status, _ := c.sendRaw(t, []byte(`{"t":"bogus"}`))
			if kind == sseKind {
				assert.Equal(t, http.StatusBadRequest, status)
			}
			assert.Equal(t, "bad_frame", expect(t, c, "error").Code)
			expectClosed(t, c)
		})
	}
}

func TestPing(t *testing.T) {
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			srv := startServer(t, newSealer(t), resume.Options{PingInterval: 10 * time.Millisecond})
			c := dial(t, kind, srv.url, nil)
			raw := rawFrames(c)
			require.NotNil(t, raw)
			for seen := 0; seen < 2; {
				if raw(t) == "ping" {
					seen++
				}
			}
		})
	}
}

// rawFrames returns a reader of frame types that includes pings.
func rawFrames(c client) func(t *testing.T) string {
	switch c := c.(type) {
	case *wsClient:
		return func(t *testing.T) string {
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			_, b, err := c.ws.Read(ctx)
			require.NoError(t, err)
			return typeOf(t, b)
		}
	case *sseClient:
		return func(t *testing.T) string {
			select {
			case b := <-c.frames:
				return typeOf(t, b)
			case <-time.After(waitTimeout):
				require.FailNow(t, "no frame")
			}
			return ""
		}
	}
	return nil
}

func typeOf(t *testing.T, b []byte) string {
	t.Helper()
	var f frame
	require.NoError(t, json.Unmarshal(b, &f))
	return f.T
}

func TestRestoreTimeout(t *testing.T) {
	srv := startServer(t, newSealer(t), resume.Options{RestoreTimeout: 20 * time.Millisecond})
	c := dial(t, wsKind, srv.url, nil)
	expect(t, c, "welcome")
	expect(t, c, "restore")
	e := expect(t, c, "error")
	assert.Equal(t, "bad_frame", e.Code)
	assert.Contains(t, e.Message, "restored")
	expectClosed(t, c)
}

// TestShutdownMidStream shuts the handler down while the App streams
// events: clients see the connection end, Done closes, sends fail with
// ErrClosed, and (TestMain) no goroutine is left behind.
func TestShutdownMidStream(t *testing.T) {
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			srv := startServer(t, newSealer(t), resume.Options{})
			streaming := make(chan error, 1)
			srv.app.openHook = func(ctx context.Context, c *resume.Conn[launchState]) error {
				go func() {
					var err error
					for seq := uint64(1); err == nil; seq++ {
						err = c.Event(ctx, seq, map[string]uint64{"n": seq})
					}
					streaming <- err
				}()
				return nil
			}
			c := dial(t, kind, srv.url, nil)
			handshake(t, c, testKey, nil)
			conn := srv.app.nextConn(t)
			for range 3 {
				expect(t, c, "event")
			}

			// The client keeps reading, as a browser does, until the end.
			drained := make(chan []string, 1)
			go func() {
				var types []string
				for {
					f, ok := c.next(t)
					if !ok {
						break
					}
					types = append(types, f.T)
				}
				drained <- types
			}()
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			require.NoError(t, srv.h.Shutdown(ctx))
			select {
			case <-conn.Done():
			default:
				t.Fatal("Done not closed after Shutdown returned")
			}
			assert.ErrorIs(t, conn.Context().Err(), context.Canceled, "Context ends with the connection")
			assert.ErrorIs(t, <-streaming, resume.ErrClosed)
			assert.ErrorIs(t, conn.Event(context.Background(), 1, nil), resume.ErrClosed)
			for _, typ := range <-drained {
				require.Equal(t, "event", typ)
			}
			assert.ErrorIs(t, srv.h.Shutdown(ctx), resume.ErrShutdown)

			_, resp, err := tryDial(kind, srv.url, nil)
			require.Error(t, err)
			require.NotNil(t, resp)
			assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		})
	}
}

// TestClientGoneEndsConn checks that Done closes and Context is canceled
// when the client leaves, and not before.
func TestClientGoneEndsConn(t *testing.T) {
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			srv := startServer(t, newSealer(t), resume.Options{})
			c := dial(t, kind, srv.url, nil)
			handshake(t, c, testKey, nil)
			conn := srv.app.nextConn(t)
			ctx := conn.Context()
			require.NoError(t, ctx.Err(), "Context is live while the connection is")
			c.close()
			select {
			case <-ctx.Done():
			case <-time.After(waitTimeout):
				t.Fatal("Context not canceled after the client left")
			}
			select {
			case <-conn.Done():
			case <-time.After(waitTimeout):
				t.Fatal("Done not closed after the client left")
			}
			assert.ErrorIs(t, conn.Clear(context.Background()), resume.ErrClosed)
		})
	}
}

func TestSendTooLarge(t *testing.T) {
	srv := startServer(t, newSealer(t), resume.Options{MaxFrameSize: 2048})
	c := dial(t, wsKind, srv.url, nil)
	handshake(t, c, testKey, nil)
	conn := srv.app.nextConn(t)
	err := conn.Event(context.Background(), 1, strings.Repeat("x", 4096))
	assert.ErrorIs(t, err, resume.ErrFrameTooLarge)
	// The connection is still usable.
	require.NoError(t, conn.Event(context.Background(), 2, "small"))
	assert.Equal(t, uint64(2), expect(t, c, "event").Seq)
}

func TestSendHonorsContext(t *testing.T) {
	srv := startServer(t, newSealer(t), resume.Options{})
	c := dial(t, wsKind, srv.url, nil)
	handshake(t, c, testKey, nil)
	conn := srv.app.nextConn(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, conn.Event(ctx, 1, "x"), context.Canceled)
}

// TestMaxAge checks that Options.MaxAge travels in the blob: a blob of a
// server whose MaxAge is one minute is expired two minutes later, while one
// of the default (one hour) still resumes.
func TestMaxAge(t *testing.T) {
	now := time.Now()
	short := storeState(t, wsKind, startServer(t, newSealer(t), resume.Options{MaxAge: time.Minute}), nil)
	long := storeState(t, wsKind, startServer(t, newSealer(t), resume.Options{}), nil)

	later := startServer(t, newSealer(t, seal.WithClock(func() time.Time { return now.Add(2 * time.Minute) })), resume.Options{})
	for tok, want := range map[string]string{short: "expired", long: "resumed"} {
		c := dial(t, wsKind, later.url, nil)
		assert.Equal(t, want, handshake(t, c, testKey, &tok).Status)
	}
}

// TestKeyRotation checks that rotation is inherited from the Sealer: a
// blob sealed under the previous key base still resumes.
func TestKeyRotation(t *testing.T) {
	old := startServer(t, newSealer(t), resume.Options{})
	tok := storeState(t, sseKind, old, nil)

	rotated, err := seal.New([]byte("the-new-key-base-after-rotation-0123456789"), seal.PreviousKeyBases(keyBase))
	require.NoError(t, err)
	srv := startServer(t, rotated, resume.Options{})
	c := dial(t, sseKind, srv.url, nil)
	assert.Equal(t, "resumed", handshake(t, c, testKey, &tok).Status)
	assert.Equal(t, wantState, srv.app.nextOpen(t).State)
}
