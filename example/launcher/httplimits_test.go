package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shortHTTPLimits are defaultHTTPLimits with timeouts short enough to wait
// for in a test.
func shortHTTPLimits() httpLimits {
	l := defaultHTTPLimits()
	l.readHeader, l.read, l.idle = 300*time.Millisecond, 300*time.Millisecond, 300*time.Millisecond
	return l
}

// serveWith serves h on loopback with newHTTPServer and limits l, and
// returns its base URL.
func serveWith(t *testing.T, h http.Handler, l httpLimits) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs := newHTTPServer(h, l, slog.New(slog.DiscardHandler))
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	t.Cleanup(func() {
		assert.NoError(t, hs.Close())
		assert.ErrorIs(t, <-served, http.ErrServerClosed)
	})
	return "http://" + ln.Addr().String()
}

func TestDefaultHTTPLimits(t *testing.T) {
	l := defaultHTTPLimits()
	assert.Positive(t, l.readHeader)
	assert.GreaterOrEqual(t, l.read, l.readHeader, "ReadTimeout bounds the whole request, headers included")
	assert.Positive(t, l.idle)
	assert.Positive(t, l.maxHeaderBytes)
	assert.Less(t, l.maxHeaderBytes, http.DefaultMaxHeaderBytes)

	hs := newHTTPServer(http.NotFoundHandler(), l, slog.New(slog.DiscardHandler))
	assert.Equal(t, l.readHeader, hs.ReadHeaderTimeout)
	assert.Equal(t, l.read, hs.ReadTimeout)
	assert.Equal(t, l.idle, hs.IdleTimeout)
	assert.Equal(t, l.maxHeaderBytes, hs.MaxHeaderBytes)
	assert.Zero(t, hs.WriteTimeout, "a write timeout would end the event streams")
}

// TestHTTPServerClosesIdleConnections is finding 6 of issue 8: 2,000 idle
// keep-alive connections were held as long as their clients liked.
func TestHTTPServerClosesIdleConnections(t *testing.T) {
	s := newTestServer(t, 1000, 0)
	base := serveWith(t, s.srv, shortHTTPLimits())
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(20*time.Second))) // the test's own bound
	_, err = io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.False(t, resp.Close, "a keep-alive connection")

	_, err = br.ReadByte()
	assert.ErrorIs(t, err, io.EOF, "the server closes the idle connection, not the test's deadline")
}

// TestHTTPServerCutsDripFedBody is finding 6 of issue 8: 1,000 POST
// /resume/send bodies fed a byte at a time were held open for as long as
// the dripping went on. The whole request must arrive within ReadTimeout.
func TestHTTPServerCutsDripFedBody(t *testing.T) {
	s := newTestServer(t, 1000, 0)
	base := serveWith(t, s.srv, shortHTTPLimits())
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(20*time.Second))) // the test's own bound
	_, err = io.WriteString(conn, "POST /resume/send HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	require.NoError(t, err)

	dripped := make(chan struct{})
	go func() {
		defer close(dripped)
		for range 200 { // never the 1,000 bytes promised
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
			time.Sleep(25 * time.Millisecond)
		}
	}()
	defer func() { conn.Close(); <-dripped }()

	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "the server waited for the drip: %v", err)
	if err == nil {
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "the body could not be read in time")
	} else {
		assert.ErrorIs(t, err, io.EOF, "or the server just closed the connection")
	}
}

// TestRunLimitsHeaderBytes is finding 6 of issue 8 through run: net/http's
// default let every request carry 1 MiB of headers.
func TestRunLimitsHeaderBytes(t *testing.T) {
	url, _, stop := runInBackground(t, []string{"-addr", "127.0.0.1:0", "-data-dir", t.TempDir(), "-sim-speed", "50"}, nil)
	for _, tt := range []struct {
		name  string
		bytes int
		want  int
	}{
		{"cookies of a parent domain", 16 << 10, http.StatusOK},
		{"64 KiB of headers", 64 << 10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, url+"healthz", nil)
			require.NoError(t, err)
			req.Header.Set("Cookie", "c="+strings.Repeat("x", tt.bytes))
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.want, resp.StatusCode)
		})
	}
	require.NoError(t, stop())
}

// sseClient speaks the fallback transport like the page does.
type sseClient struct {
	t    *testing.T
	base string
	body io.ReadCloser
	rd   *bufio.Reader
	conn string
	ctx  context.Context
}

// openStream opens POST /resume/stream at base and answers restore with no
// blob; it returns after the result.
func openStream(t *testing.T, base string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/resume/stream", strings.NewReader(`{"v":1}`))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	require.Equal(t, http.StatusOK, resp.StatusCode)
	c := &sseClient{t: t, base: base, body: resp.Body, rd: bufio.NewReader(resp.Body), ctx: ctx}
	welcome := c.read()
	require.Equal(t, "welcome", welcome.T)
	var w struct{ Conn string }
	require.NoError(t, json.Unmarshal(welcome.raw, &w))
	c.conn = w.Conn
	restore := c.read()
	require.Equal(t, "restore", restore.T)
	c.send(map[string]any{"t": "restored", "v": 1, "key": restore.Key, "data": nil})
	require.Equal(t, "result", c.read().T)
	return c
}

// sseFrame is a frame and its JSON.
type sseFrame struct {
	frame
	raw []byte
}

func (c *sseClient) read() sseFrame {
	c.t.Helper()
	for {
		line, err := c.rd.ReadString('\n')
		require.NoError(c.t, err)
		data, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "data: ")
		if !ok {
			continue
		}
		f := sseFrame{raw: []byte(data)}
		require.NoError(c.t, json.Unmarshal(f.raw, &f.frame))
		if f.T != "ping" {
			return f
		}
	}
}

func (c *sseClient) send(frame any) {
	c.t.Helper()
	b, err := json.Marshal(map[string]any{"conn": c.conn, "frame": frame})
	require.NoError(c.t, err)
	req, err := http.NewRequestWithContext(c.ctx, http.MethodPost, c.base+"/resume/send", strings.NewReader(string(b)))
	require.NoError(c.t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	resp.Body.Close()
	require.Equal(c.t, http.StatusNoContent, resp.StatusCode)
}

// TestLongLivedConnectionsOutliveReadTimeout checks that ReadTimeout bounds
// ordinary requests only: a WebSocket (net/http clears the deadline when it
// hands the connection over) and an event stream (net/http clears it when
// it starts its background read after the request body) stay usable long
// after it.
func TestLongLivedConnectionsOutliveReadTimeout(t *testing.T) {
	s := newTestServer(t, 1000, 0)
	l := shortHTTPLimits()
	base := serveWith(t, s.srv, l)

	ws, _ := dialResume(t, base, "")
	assert.Equal(t, phaseIdle, viewOf(t, ws.read()).Phase)
	stream := openStream(t, base)
	assert.Equal(t, "snapshot", stream.read().T)

	time.Sleep(5 * l.read)

	r := ws.action("no-such-action", nil)
	assert.False(t, r.OK)
	assert.Contains(t, r.Error, "Unknown action", "the WebSocket is still served")

	stream.send(map[string]any{"t": "action", "id": "1", "name": "no-such-action"})
	reply := stream.read()
	assert.Equal(t, "reply", reply.T)
	assert.Contains(t, reply.Error, "Unknown action", "the event stream is still served")
}
