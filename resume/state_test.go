package resume_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/sealkit/sealkit/resume"
	"github.com/sealkit/sealkit/seal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// timedJob is a state as an app author writes one: JSON tags, a time, a
// field that must not be sealed.
type timedJob struct {
	Name     string    `json:"name"`
	Started  time.Time `json:"started"`
	Deadline time.Time `json:"deadline,omitzero"`
	Tries    int       `json:"tries,omitempty"`
	Draft    string    `json:"-"`
}

// connApp hands every connection and Open result to the test, which
// drives the Conn itself.
type connApp[S any] struct {
	conns  chan *resume.Conn[S]
	opened chan resume.Result[S]
}

func (a connApp[S]) Open(_ context.Context, c *resume.Conn[S], r resume.Result[S]) error {
	a.opened <- r
	a.conns <- c
	return nil
}

func (connApp[S]) Action(context.Context, *resume.Conn[S], string, json.RawMessage) error {
	return nil
}

// serveConns starts a handler for states of type S and returns its URL and
// its App.
func serveConns[S any](t *testing.T, opts resume.Options) (string, connApp[S]) {
	t.Helper()
	app := connApp[S]{conns: make(chan *resume.Conn[S], 4), opened: make(chan resume.Result[S], 4)}
	_, url := serve(t, newSealer(t), resume.App[S](app), opts)
	return url, app
}

func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		require.FailNow(t, "nothing received", "within %s", waitTimeout)
	}
	var zero T
	return zero
}

// TestStateIsJSON stores a state with JSON tags and times, reloads (a new
// connection, to a restarted server, hands the blob back) and gets the
// same state: tags name the keys, "-" fields stay out of the blob, times
// keep their instant and offset.
func TestStateIsJSON(t *testing.T) {
	started := time.Date(2026, 11, 30, 8, 15, 42, 123456789, time.FixedZone("CET", 3600))
	stored := timedJob{Name: "nightly", Started: started, Tries: 2, Draft: "kept on the server"}
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			url, app := serveConns[timedJob](t, resume.Options{})
			c := dial(t, kind, url, nil)
			handshake(t, c, testKey, nil)
			receive(t, app.opened)
			require.NoError(t, receive(t, app.conns).Store(context.Background(), stored))
			tok := expect(t, c, "store").token(t)

			var doc []byte
			require.NoError(t, newSealer(t).Decrypt(testKey, tok, &doc))
			assert.JSONEq(t, `{"v":2,"bind":"","state":{"name":"nightly","started":"2026-11-30T08:15:42.123456789+01:00","tries":2}}`, string(doc))

			url2, app2 := serveConns[timedJob](t, resume.Options{})
			c2 := dial(t, kind, url2, nil)
			assert.Equal(t, "resumed", handshake(t, c2, testKey, &tok).Status)
			r := receive(t, app2.opened)
			require.Equal(t, resume.StatusResumed, r.Status)
			got := r.State
			assert.True(t, got.Started.Equal(started), "started %v, want %v", got.Started, started)
			_, offset := got.Started.Zone()
			assert.Equal(t, 3600, offset)
			assert.True(t, got.Deadline.IsZero())
			got.Started = started
			assert.Equal(t, timedJob{Name: "nightly", Started: started, Tries: 2}, got)
		})
	}
}

// badState has a field of every kind encoding/json refuses, each empty
// (and so encodable) unless a case fills it.
type badState struct {
	Name   string                   `json:"name"`
	Inner  *struct{ Jobs chan int } `json:"inner,omitempty"`
	Points []float64                `json:"points"`
	Due    time.Time                `json:"due"`
	Hooks  map[string]any           `json:"hooks"`
}

// TestStoreNamesTheField stores states that do not encode: the error names
// the state's type, the field and its type, wraps encoding/json's error,
// sends nothing and leaves the connection usable.
func TestStoreNamesTheField(t *testing.T) {
	tests := []struct {
		name  string
		state badState
		want  string
	}{
		{"chan in a nested struct", badState{Inner: &struct{ Jobs chan int }{}}, "field Inner.Jobs (chan int): json: unsupported type: chan int"},
		{"NaN in a slice", badState{Points: []float64{1, math.NaN()}}, "field Points[1] (float64): json: unsupported value: NaN"},
		{"time past year 9999", badState{Due: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "field Due (time.Time): json: error calling MarshalJSON for type time.Time"},
		{"func in a map", badState{Hooks: map[string]any{"secret-key-name": func() {}}}, "field Hooks[…] (func()): json: unsupported type: func()"},
	}
	url, app := serveConns[badState](t, resume.Options{})
	c := dial(t, wsKind, url, nil)
	handshake(t, c, testKey, nil)
	receive(t, app.opened)
	conn := receive(t, app.conns)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := conn.Store(context.Background(), tt.state)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "resume: encode state resume_test.badState: "+tt.want)
			assert.NotContains(t, err.Error(), "secret-key-name", "map keys may be data: never quoted")
		})
	}
	require.NoError(t, conn.Store(context.Background(), badState{Name: "fine"}))
	assert.Equal(t, "store", expect(t, c, "store").T, "nothing was sent for the failed stores")
}

// TestOtherBlobFormatsAreInvalid hands back genuine blobs this version
// cannot use: blob format 1 (the envelope as Erlang terms), another
// format version, no JSON, a state of another shape. Each opens as
// invalid, is cleared, and the error quotes no state.
func TestOtherBlobFormatsAreInvalid(t *testing.T) {
	sealer := newSealer(t)
	v1, err := sealer.Encrypt(testKey, struct {
		State launchState `etf:"state"`
		Bind  string      `etf:"bind"`
	}{State: wantState}, seal.MaxAge(time.Hour))
	require.NoError(t, err)
	tests := []struct {
		name    string
		blob    string
		message string
	}{
		{"format 1", v1, "seal: invalid token"},
		{"format 3", sealJSON(t, `{"v":3,"bind":"","state":{"app":"x"}}`), "blob format 3, want 2"},
		{"not JSON", sealJSON(t, `{"v":2,`), "not a JSON envelope"},
		{"state of another shape", sealJSON(t, `{"v":2,"bind":"","state":{"app":7,"password":"hunter2-sealed"}}`), `field "app" does not fit Go type string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, newSealer(t), resume.Options{})
			c := dial(t, wsKind, srv.url, nil)
			assert.Equal(t, "invalid", handshake(t, c, testKey, &tt.blob).Status)
			expect(t, c, "clear")
			r := srv.app.nextOpen(t)
			assert.Equal(t, resume.StatusInvalid, r.Status)
			require.ErrorIs(t, r.Err, seal.ErrInvalid)
			assert.Contains(t, r.Err.Error(), tt.message)
			assert.NotContains(t, r.Err.Error(), "hunter2")
			assert.Zero(t, r.State)
		})
	}
}

// sealJSON seals doc as resume does: a JSON document inside the token, as
// an Erlang binary (PROTOCOL.md, section 3.4).
func sealJSON(t *testing.T, doc string) string {
	t.Helper()
	tok, err := newSealer(t).Encrypt(testKey, []byte(doc), seal.MaxAge(time.Hour))
	require.NoError(t, err)
	return tok
}

// TestBlobIsJSONInAToken checks the documented blob format from the other
// side: a blob sealed by hand as PROTOCOL.md says resumes.
func TestBlobIsJSONInAToken(t *testing.T) {
	srv := startServer(t, newSealer(t), resume.Options{})
	tok := sealJSON(t, `{"v":2,"bind":"","state":{"app":"livebook-7","password":"hunter2-sealed","seq":41}}`)
	c := dial(t, sseKind, srv.url, nil)
	assert.Equal(t, "resumed", handshake(t, c, testKey, &tok).Status)
	assert.Equal(t, wantState, srv.app.nextOpen(t).State)
}
