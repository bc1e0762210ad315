package resume_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/sealkit/sealkit/resume"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMalformedFrames sends bad client frames over both transports; each
// must be answered with the right error frame and the connection closed.
func TestMalformedFrames(t *testing.T) {
	big := `{"t":"action","id":"x","name":"y","data":"` + strings.Repeat("z", 1100) + `"}`
	tests := []struct {
		name     string
		frame    string
		restored bool // send a valid restored first
		code     string
		// bodyOnly: over the fallback, the frame breaks the POST body
		// itself, so only that POST is refused (the connection it belongs
		// to cannot be known) and the stream stays open.
		bodyOnly bool
	}{
		{"not json", `{"t":`, false, "bad_frame", true},
		{"huge", `"` + strings.Repeat("z", 4096) + `"`, false, "too_large", true},
		{"array", `["restored"]`, false, "bad_frame", false},
		{"null", `null`, false, "bad_frame", false},
		{"missing type", `{"key":"launch"}`, false, "bad_frame", false},
		{"type not string", `{"t":7}`, false, "bad_frame", false},
		{"unknown type", `{"t":"launch"}`, false, "bad_frame", false},
		{"restored without v", `{"t":"restored","key":"launch","data":null}`, false, "bad_frame", false},
		{"restored v string", `{"t":"restored","v":"1","key":"launch","data":null}`, false, "bad_frame", false},
		{"restored v2", `{"t":"restored","v":2,"key":"launch","data":null}`, false, "unsupported_version", false},
		{"restored without key", `{"t":"restored","v":1,"data":null}`, false, "bad_frame", false},
		{"restored wrong key", `{"t":"restored","v":1,"key":"other","data":null}`, false, "bad_frame", false},
		{"restored data number", `{"t":"restored","v":1,"key":"launch","data":5}`, false, "bad_frame", false},
		{"restored twice", `{"t":"restored","v":1,"key":"launch","data":null}`, true, "bad_frame", false},
		{"action without id", `{"t":"action","name":"launch"}`, true, "bad_frame", false},
		{"action empty id", `{"t":"action","id":"","name":"launch"}`, true, "bad_frame", false},
		{"action name not string", `{"t":"action","id":"1","name":["launch"]}`, true, "bad_frame", false},
		{"action without name", `{"t":"action","id":"1"}`, true, "bad_frame", false},
		{"too large", big, true, "too_large", false},
		{"invalid utf8", "{\"t\":\"pong\",\"x\":\"\xff\"}", true, "bad_frame", false},
	}
	for _, kind := range transports {
		for _, tt := range tests {
			t.Run(string(kind)+"/"+tt.name, func(t *testing.T) {
				srv := startServer(t, newSealer(t), resume.Options{MaxFrameSize: 1024})
				srv.app.openHook = func(ctx context.Context, c *resume.Conn[launchState]) error {
					return c.Event(ctx, 1, "opened")
				}
				c := dial(t, kind, srv.url, nil)
				expect(t, c, "welcome")
				expect(t, c, "restore")
				if tt.restored {
					send(t, c, map[string]any{"t": "restored", "v": 1, "key": testKey, "data": nil})
					expect(t, c, "result")
				}
				if tt.restored {
					expect(t, c, "event")
				}
				status, body := c.sendRaw(t, []byte(tt.frame))
				if kind == sseKind {
					assert.GreaterOrEqual(t, status, 400)
					assert.Contains(t, string(body), `"code":"`+tt.code+`"`)
					if tt.bodyOnly {
						send(t, c, map[string]any{"t": "restored", "v": 1, "key": testKey, "data": nil})
						assert.Equal(t, "fresh", expect(t, c, "result").Status)
						return
					}
				}
				e := expect(t, c, "error")
				assert.Equal(t, tt.code, e.Code)
				assert.NotEmpty(t, e.Message)
				expectClosed(t, c)
			})
		}
	}
}

// TestWebSocketBinaryFrame: frames are text messages only.
func TestWebSocketBinaryFrame(t *testing.T) {
	srv := startServer(t, newSealer(t), resume.Options{})
	c := dial(t, wsKind, srv.url, nil).(*wsClient)
	expect(t, c, "welcome")
	expect(t, c, "restore")
	ctx := t.Context()
	require.NoError(t, c.ws.Write(ctx, websocket.MessageBinary, []byte(`{"t":"pong"}`)))
	assert.Equal(t, "bad_frame", expect(t, c, "error").Code)
	expectClosed(t, c)
}

// TestWebSocketCloseStatus checks the close code that follows an error frame.
func TestWebSocketCloseStatus(t *testing.T) {
	srv := startServer(t, newSealer(t), resume.Options{})
	c := dial(t, wsKind, srv.url, nil).(*wsClient)
	expect(t, c, "welcome")
	expect(t, c, "restore")
	c.sendRaw(t, []byte(`{"t":"nope"}`))
	expect(t, c, "error")
	_, _, err := c.ws.Read(t.Context())
	assert.Equal(t, websocket.StatusPolicyViolation, websocket.CloseStatus(err))
}

func TestUnsupportedSubprotocol(t *testing.T) {
	srv := startServer(t, newSealer(t), resume.Options{})
	for _, protos := range [][]string{nil, {"sealkit.resume.v2"}} {
		t.Run(strings.Join(protos, ","), func(t *testing.T) {
			ws, _, err := websocket.Dial(t.Context(), "ws"+strings.TrimPrefix(srv.url, "http"), &websocket.DialOptions{Subprotocols: protos})
			require.NoError(t, err)
			defer func() { _ = ws.CloseNow() }()
			c := &wsClient{ws: ws}
			e := expect(t, c, "error")
			assert.Equal(t, "unsupported_version", e.Code)
			expectClosed(t, c)
		})
	}
}

func TestStreamVersion(t *testing.T) {
	srv := startServer(t, newSealer(t), resume.Options{})
	tests := []struct {
		body   string
		status int
		code   string
	}{
		{`{"v":2}`, http.StatusBadRequest, "unsupported_version"},
		{`[1]`, http.StatusBadRequest, "bad_frame"},
		{strings.Repeat(" ", 2048), http.StatusRequestEntityTooLarge, "too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			resp, err := http.Post(srv.url+"/stream", "application/json", strings.NewReader(tt.body))
			require.NoError(t, err)
			defer func() { _ = resp.Body.Close() }()
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.code, decodeError(t, resp).Code)
		})
	}
	t.Run("get", func(t *testing.T) {
		resp, err := http.Get(srv.url + "/stream")
		require.NoError(t, err)
		defer func() { _ = resp.Body.Close() }()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	})
}

func decodeError(t *testing.T, resp *http.Response) frame {
	t.Helper()
	var f frame
	require.NoError(t, jsonDecode(resp, &f))
	assert.Equal(t, "error", f.T)
	return f
}

func TestSendErrors(t *testing.T) {
	srv := startServer(t, newSealer(t), resume.Options{MaxFrameSize: 1024})
	tests := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"unknown conn", `{"conn":"gone-after-restart","frame":{"t":"pong"}}`, http.StatusNotFound, "unknown_conn"},
		{"no conn", `{"frame":{"t":"pong"}}`, http.StatusBadRequest, "bad_frame"},
		{"no frame", `{"conn":"x"}`, http.StatusBadRequest, "bad_frame"},
		{"not json", `conn=x`, http.StatusBadRequest, "bad_frame"},
		{"too large", `{"conn":"x","frame":"` + strings.Repeat("a", 4096) + `"}`, http.StatusRequestEntityTooLarge, "too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := postSend(t, srv.url, nil, tt.body)
			assert.Equal(t, tt.status, status)
			assert.Contains(t, string(body), `"code":"`+tt.code+`"`)
		})
	}
}

// TestOrigin checks the Origin rules on every endpoint.
func TestOrigin(t *testing.T) {
	srv := startServer(t, newSealer(t), resume.Options{OriginPatterns: []string{"*.example.com", "https://app.test"}})
	host := strings.TrimPrefix(srv.url, "http://")
	host = host[:strings.Index(host, "/")]
	tests := []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"http://" + host, true},
		{"https://launch.example.com", true},
		{"https://app.test", true},
		{"http://app.test", false},
		{"https://evil.test", false},
		{"https://example.com.evil.test", false},
		{"null", false},
	}
	for _, kind := range transports {
		for _, tt := range tests {
			t.Run(string(kind)+"/"+tt.origin, func(t *testing.T) {
				var hdr http.Header
				if tt.origin != "" {
					hdr = http.Header{"Origin": {tt.origin}}
				}
				c, resp, err := tryDial(kind, srv.url, hdr)
				if tt.ok {
					require.NoError(t, err)
					defer c.close()
					expect(t, c, "welcome")
					return
				}
				require.Error(t, err)
				require.NotNil(t, resp)
				assert.Equal(t, http.StatusForbidden, resp.StatusCode)
				assert.Equal(t, "forbidden_origin", decodeError(t, resp).Code)
			})
		}
	}
	t.Run("send", func(t *testing.T) {
		status, body := postSend(t, srv.url, http.Header{"Origin": {"https://evil.test"}}, `{"conn":"x","frame":{"t":"pong"}}`)
		assert.Equal(t, http.StatusForbidden, status)
		assert.Contains(t, string(body), "forbidden_origin")
	})
}
