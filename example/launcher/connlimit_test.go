package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tryDial opens a WebSocket to the resume endpoint of s with header h and
// returns it, or the HTTP answer that refused it.
func tryDial(t *testing.T, s *testServer, h http.Header) (*websocket.Conn, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.http.URL, "http")+"/resume", &websocket.DialOptions{
		Subprotocols: []string{"sealkit.resume.v1"},
		HTTPHeader:   h,
	})
	if err != nil {
		require.NotNil(t, resp, "dial: %v", err)
		return nil, resp
	}
	t.Cleanup(func() { ws.CloseNow() })
	return ws, resp
}

// requireTooMany checks a 429 answer and its error frame body.
func requireTooMany(t *testing.T, resp *http.Response, body []byte) {
	t.Helper()
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var f struct{ T, Code, Message string }
	require.NoError(t, json.Unmarshal(body, &f), "%s", body)
	assert.Equal(t, "error", f.T)
	assert.Equal(t, codeTooManyConnections, f.Code)
	assert.NotEmpty(t, f.Message)
}

// TestResumeConnectionsCappedPerClient is finding 6 of issue 8: one address
// opened 3,000 WebSockets and kept them. A client (an IPv4 address or an
// IPv6 /64) now holds at most maxConnsPerClient resume connections,
// WebSockets and event streams together; more get 429.
func TestResumeConnectionsCappedPerClient(t *testing.T) {
	const max = 3
	s := newTestServerWith(t, 1000, func(o *serverOptions) { o.maxConnsPerClient, o.clients.forwarded = max, true })
	client := http.Header{"X-Forwarded-For": {"2001:db8:7:7::1"}}
	sameClient := http.Header{"X-Forwarded-For": {"2001:db8:7:7:ffff::2"}} // same /64
	other := http.Header{"X-Forwarded-For": {"2001:db8:7:8::1"}}

	var open []*websocket.Conn
	for i := range max {
		h := client
		if i%2 == 1 {
			h = sameClient
		}
		ws, resp := tryDial(t, s, h)
		require.NotNil(t, ws, "connection %d: %d", i, resp.StatusCode)
		open = append(open, ws)
	}

	ws, resp := tryDial(t, s, sameClient)
	require.True(t, ws == nil, "one WebSocket over the cap was accepted")
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	requireTooMany(t, resp, body)

	req, err := http.NewRequest(http.MethodPost, s.http.URL+"/resume/stream", strings.NewReader(`{"v":1}`))
	require.NoError(t, err)
	req.Header = client.Clone()
	sresp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, err = io.ReadAll(sresp.Body)
	sresp.Body.Close()
	require.NoError(t, err)
	requireTooMany(t, sresp, body)

	ws, _ = tryDial(t, s, other)
	require.NotNil(t, ws, "another client is not affected")
	ws.CloseNow()
	ws, _ = tryDial(t, s, nil)
	require.NotNil(t, ws, "nor the proxy's own address")
	ws.CloseNow()

	// A closed connection frees its place once the server has seen it end.
	require.NoError(t, open[0].Close(websocket.StatusNormalClosure, ""))
	var again *websocket.Conn
	for range 100 {
		if again, _ = tryDial(t, s, client); again != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NotNil(t, again, "the client may connect again")
}

func TestNewConnLimitValidates(t *testing.T) {
	_, err := newConnLimit(0, clientSource{})
	require.Error(t, err)
}
