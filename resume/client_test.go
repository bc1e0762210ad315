package resume_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
)

// frame is any protocol frame, as a test client sees it.
type frame struct {
	T       string          `json:"t"`
	V       int             `json:"v,omitempty"`
	Conn    string          `json:"conn,omitempty"`
	Key     string          `json:"key,omitempty"`
	Status  string          `json:"status,omitempty"`
	Message string          `json:"message,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
	Seq     uint64          `json:"seq,omitempty"`
	ID      string          `json:"id,omitempty"`
	OK      bool            `json:"ok,omitempty"`
	Error   string          `json:"error,omitempty"`
	Code    string          `json:"code,omitempty"`
}

// token returns a store frame's sealed blob.
func (f frame) token(t testing.TB) string {
	t.Helper()
	var s string
	require.NoError(t, json.Unmarshal(f.Data, &s))
	return s
}

// waitTimeout bounds every wait of a test client; tests never sleep.
const waitTimeout = 5 * time.Second

// client is a Go test client of the resume protocol over one transport.
type client interface {
	// sendRaw sends one raw frame; for the fallback it returns the POST
	// /send answer (status, body), for WebSocket (0, nil).
	sendRaw(t *testing.T, b []byte) (int, []byte)
	// next returns the next frame other than ping; ok is false once the
	// server has closed the connection.
	next(t *testing.T) (frame, bool)
	close()
}

func send(t *testing.T, c client, f any) {
	t.Helper()
	b, err := json.Marshal(f)
	require.NoError(t, err)
	status, body := c.sendRaw(t, b)
	if status != 0 {
		require.Equal(t, http.StatusNoContent, status, "send answered %s", body)
	}
}

// expect reads the next frame and checks its type.
func expect(t *testing.T, c client, typ string) frame {
	t.Helper()
	f, ok := c.next(t)
	require.True(t, ok, "connection closed while waiting for %q", typ)
	require.Equal(t, typ, f.T, "frame %+v", f)
	return f
}

// expectClosed checks that the server closed the connection.
func expectClosed(t *testing.T, c client) {
	t.Helper()
	f, ok := c.next(t)
	require.False(t, ok, "got %+v, want the connection closed", f)
}

// handshake reads welcome and restore and answers with token (nil: none).
func handshake(t *testing.T, c client, key string, token *string) frame {
	t.Helper()
	w := expect(t, c, "welcome")
	require.Equal(t, 1, w.V)
	require.NotEmpty(t, w.Conn)
	r := expect(t, c, "restore")
	require.Equal(t, key, r.Key)
	send(t, c, map[string]any{"t": "restored", "v": 1, "key": key, "data": token})
	return expect(t, c, "result")
}

type transportKind string

const (
	wsKind  transportKind = "websocket"
	sseKind transportKind = "sse"
)

var transports = []transportKind{wsKind, sseKind}

func dial(t *testing.T, kind transportKind, base string, hdr http.Header) client {
	t.Helper()
	c, resp, err := tryDial(kind, base, hdr)
	require.NoError(t, err, "dial %s: %v", kind, resp)
	t.Cleanup(c.close)
	return c
}

// tryDial connects without failing the test; resp is set when the server
// refused with an HTTP error.
func tryDial(kind transportKind, base string, hdr http.Header) (client, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	switch kind {
	case wsKind:
		ws, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http"), &websocket.DialOptions{
			Subprotocols: []string{"sealkit.resume.v1"},
			HTTPHeader:   hdr,
		})
		if err != nil {
			return nil, resp, err
		}
		return &wsClient{ws: ws}, nil, nil
	default:
		return dialSSE(base, hdr)
	}
}

type wsClient struct{ ws *websocket.Conn }

func (c *wsClient) sendRaw(t *testing.T, b []byte) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	require.NoError(t, c.ws.Write(ctx, websocket.MessageText, b))
	return 0, nil
}

func (c *wsClient) next(t *testing.T) (frame, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for {
		typ, b, err := c.ws.Read(ctx)
		if err != nil {
			require.NotErrorIs(t, err, context.DeadlineExceeded, "no frame within %s", waitTimeout)
			return frame{}, false
		}
		require.Equal(t, websocket.MessageText, typ)
		var f frame
		require.NoError(t, json.Unmarshal(b, &f), "frame %s", b)
		if f.T != "ping" {
			return f, true
		}
	}
}

func (c *wsClient) close() { _ = c.ws.CloseNow() }

// sseClient reads POST /stream and writes POST /send.
type sseClient struct {
	base   string
	hdr    http.Header
	cancel context.CancelFunc
	frames chan []byte // closed at the end of the stream
	conn   string      // from the welcome frame
}

func dialSSE(base string, hdr http.Header) (client, *http.Response, error) {
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/stream", strings.NewReader(`{"v":1}`))
	if err != nil {
		cancel()
		return nil, nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		cancel()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return nil, resp, errors.New("stream refused: " + resp.Status)
	}
	c := &sseClient{base: base, hdr: hdr, cancel: cancel, frames: make(chan []byte, 64)}
	go func() {
		defer close(c.frames)
		defer func() { _ = resp.Body.Close() }()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 4096), 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				c.frames <- []byte(data)
			}
		}
	}()
	return c, nil, nil
}

func (c *sseClient) sendRaw(t *testing.T, b []byte) (int, []byte) {
	t.Helper()
	body := `{"conn":` + mustJSON(t, c.conn) + `,"frame":` + string(b) + `}`
	return postSend(t, c.base, c.hdr, body)
}

func postSend(t *testing.T, base string, hdr http.Header, body string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/send", strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, got
}

func (c *sseClient) next(t *testing.T) (frame, bool) {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		select {
		case b, ok := <-c.frames:
			if !ok {
				return frame{}, false
			}
			var f frame
			require.NoError(t, json.Unmarshal(b, &f), "frame %s", b)
			if f.T == "welcome" {
				c.conn = f.Conn
			}
			if f.T != "ping" {
				return f, true
			}
		case <-timer.C:
			require.FailNow(t, "no frame", "within %s", waitTimeout)
		}
	}
}

func (c *sseClient) close() {
	c.cancel()
	for range c.frames { // wait for the reader goroutine
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func jsonDecode(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}
