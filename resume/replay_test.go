package resume_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sealkit/sealkit/resume"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// replayCall is what a test Options.Replay saw.
type replayCall struct {
	instance string
	body     string
}

// replayRecorder is an Options.Replay that answers as an app on Fly.io
// does (409 with a fly-replay header) and records its calls.
type replayRecorder struct {
	mu    sync.Mutex
	calls []replayCall
	// decline makes Replay return false without writing anything.
	decline bool
}

func (rr *replayRecorder) replay(w http.ResponseWriter, r *http.Request, instance string) bool {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		panic(err)
	}
	rr.mu.Lock()
	defer rr.mu.Unlock()
	rr.calls = append(rr.calls, replayCall{instance: instance, body: string(b)})
	if rr.decline {
		return false
	}
	w.Header().Set("Fly-Replay", "instance="+instance)
	w.WriteHeader(http.StatusConflict)
	return true
}

func (rr *replayRecorder) seen() []replayCall {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return append([]replayCall(nil), rr.calls...)
}

// postSendHeader is postSend that also returns the answer's headers.
func postSendHeader(t *testing.T, base, body string) (int, http.Header, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/send", strings.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(got)
}

// TestReplayNamesTheHolder runs two instances: a fallback POST for a
// stream held by the first that reaches the second is handed to Replay
// with the holder's name and the request body, and the same request
// replayed on the holder (as Fly's proxy does) is accepted there.
func TestReplayNamesTheHolder(t *testing.T) {
	sealer := newSealer(t)
	var recA, recB replayRecorder
	a := startServer(t, sealer, resume.Options{Instance: "148ed193b95089", Replay: recA.replay})
	b := startServer(t, sealer, resume.Options{Instance: "9080e6f3a12387", Replay: recB.replay})

	c := dial(t, sseKind, a.url, nil)
	w := expect(t, c, "welcome")
	expect(t, c, "restore")
	instance, random, ok := strings.Cut(w.Conn, ".")
	require.True(t, ok, "the connection ID names its instance")
	assert.Equal(t, "148ed193b95089", instance)
	raw, err := base64.RawURLEncoding.DecodeString(random)
	require.NoError(t, err)
	assert.Len(t, raw, 16, "and keeps 128 random bits")

	body := `{"conn":` + mustJSON(t, w.Conn) + `,"frame":{"t":"restored","v":1,"key":"launch","data":null}}`
	status, hdr, _ := postSendHeader(t, b.url, body)
	assert.Equal(t, http.StatusConflict, status)
	assert.Equal(t, "instance=148ed193b95089", hdr.Get("Fly-Replay"))
	assert.Equal(t, []replayCall{{instance: "148ed193b95089", body: body}}, recB.seen(),
		"Replay gets the holder's name and can read the body again")

	status, _, got := postSendHeader(t, a.url, body) // the proxy replays it on the holder
	assert.Equal(t, http.StatusNoContent, status, "answer %s", got)
	assert.Equal(t, "fresh", expect(t, c, "result").Status)
	assert.Empty(t, recA.seen(), "the holder answers itself")
}

// TestReplayNeverForWhatIsGoneOrMalformed checks every POST B/send that a
// Replay must not see: it is answered 404 unknown_conn, as without Replay.
func TestReplayNeverForWhatIsGoneOrMalformed(t *testing.T) {
	random := base64.RawURLEncoding.EncodeToString(make([]byte, 16))
	tests := []struct {
		name    string
		conn    string
		decline bool
		noReply bool // Instance without Replay
	}{
		{"this instance: the stream is gone", "self." + random, false, false},
		{"no instance", random, false, false},
		{"instance with a bad character", "ot!her." + random, false, false},
		{"empty instance", "." + random, false, false},
		{"instance too long", strings.Repeat("a", 65) + "." + random, false, false},
		{"random part too short", "other." + random[:21], false, false},
		{"random part too long", "other." + random + "A", false, false},
		{"random part not base64url", "other." + random[:21] + "+", false, false},
		{"two dots", "other.x." + random, false, false},
		{"Replay declines", "other." + random, true, false},
		{"no Replay", "other." + random, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := replayRecorder{decline: tt.decline}
			opts := resume.Options{Instance: "self", Replay: rec.replay}
			if tt.noReply {
				opts.Replay = nil
			}
			srv := startServer(t, newSealer(t), opts)
			status, hdr, got := postSendHeader(t, srv.url, `{"conn":`+mustJSON(t, tt.conn)+`,"frame":{"t":"pong"}}`)
			assert.Equal(t, http.StatusNotFound, status)
			assert.Contains(t, got, `"code":"unknown_conn"`)
			assert.Empty(t, hdr.Get("Fly-Replay"))
			if tt.decline {
				assert.Len(t, rec.seen(), 1)
			} else {
				assert.Empty(t, rec.seen())
			}
		})
	}
}

// TestReplayedWebSocketIDIsRefused: a WebSocket connection's ID names its
// instance too, but /send never speaks for it, on any instance; a replay
// of it ends as 404 unknown_conn on the holder.
func TestReplayedWebSocketIDIsRefused(t *testing.T) {
	sealer := newSealer(t)
	var rec replayRecorder
	a := startServer(t, sealer, resume.Options{Instance: "a", Replay: rec.replay})
	b := startServer(t, sealer, resume.Options{Instance: "b", Replay: rec.replay})
	c := dial(t, wsKind, a.url, nil)
	w := expect(t, c, "welcome")
	expect(t, c, "restore")
	require.True(t, strings.HasPrefix(w.Conn, "a."))

	body := `{"conn":` + mustJSON(t, w.Conn) + `,"frame":{"t":"restored","v":1,"key":"launch","data":null}}`
	status, hdr, _ := postSendHeader(t, b.url, body)
	require.Equal(t, http.StatusConflict, status)
	require.Equal(t, "instance=a", hdr.Get("Fly-Replay"))
	status, _, got := postSendHeader(t, a.url, body)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Contains(t, got, `"code":"unknown_conn"`)

	send(t, c, map[string]any{"t": "restored", "v": 1, "key": testKey, "data": nil})
	assert.Equal(t, "fresh", expect(t, c, "result").Status, "the WebSocket page is untouched")
}

// TestConnIDWithoutInstance: without Options.Instance a connection ID is
// 128 random bits and nothing else.
func TestConnIDWithoutInstance(t *testing.T) {
	srv := startServer(t, newSealer(t), resume.Options{})
	for _, kind := range transports {
		c := dial(t, kind, srv.url, nil)
		w := expect(t, c, "welcome")
		assert.NotContains(t, w.Conn, ".")
		raw, err := base64.RawURLEncoding.DecodeString(w.Conn)
		require.NoError(t, err)
		assert.Len(t, raw, 16)
	}
}

func TestFlyReplay(t *testing.T) {
	tests := []struct {
		name      string
		replaySrc string
		want      bool
		status    int
		flyReplay string
	}{
		{"first delivery", "", true, http.StatusConflict, "instance=148ed193b95089"},
		{"already replayed once", "instance=0e286039f42e86;region=ams;t=1767225600000000", false, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/resume/send", strings.NewReader(`{}`))
			if tt.replaySrc != "" {
				r.Header.Set("Fly-Replay-Src", tt.replaySrc)
			}
			w := httptest.NewRecorder()
			require.Equal(t, tt.want, resume.FlyReplay(w, r, "148ed193b95089"))
			assert.Equal(t, tt.status, w.Code)
			assert.Equal(t, tt.flyReplay, w.Header().Get("Fly-Replay"))
			if tt.want {
				assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
			} else {
				assert.Empty(t, w.Header(), "nothing written: the Handler answers")
			}
		})
	}
}
