// The launcher's edge is resume's: resume.AllowHosts (421 for a foreign
// Host), resume.ClientAddrFrom (the client behind a trusted proxy) and
// Options.MaxConnsPerClient (429 too_many_connections). resume tests them
// in depth; these tests prove the launcher wires them from its flags.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requestAs sends method path to the launcher at baseURL with the Host
// header host and returns the status code. extra headers are added.
func requestAs(t *testing.T, baseURL, method, path, host string, h http.Header, body string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, baseURL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Host = host
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close() // a 101 or an event stream ends here too
	return resp.StatusCode
}

// testPort is ":port" of s.
func testPort(t *testing.T, s *testServer) string {
	t.Helper()
	u, err := url.Parse(s.http.URL)
	require.NoError(t, err)
	return ":" + u.Port()
}

// upgradeHeader are the headers of the WebSocket upgrade curl sends in
// issue 8's reproduction.
func upgradeHeader(origin string) http.Header {
	return http.Header{
		"Connection":             {"Upgrade"},
		"Upgrade":                {"websocket"},
		"Sec-Websocket-Version":  {"13"},
		"Sec-Websocket-Key":      {"dGhlIHNhbXBsZSBub25jZQ=="},
		"Sec-Websocket-Protocol": {"sealkit.resume.v1"},
		"Origin":                 {origin},
	}
}

// TestForeignHostIsMisdirected is finding 3 of issue 8 (DNS rebinding): a
// page on attacker.example, whose name resolves to the launcher's address,
// sends Origin and Host both naming attacker.example. The resume endpoint
// took that for same-origin and upgraded (101); now every path answers
// 421 to a host the launcher does not serve.
func TestForeignHostIsMisdirected(t *testing.T) {
	s := newTestServer(t, 1000, 0)
	port := testPort(t, s)
	evil := "attacker.example" + port
	origin := http.Header{"Origin": {"http://" + evil}}

	assert.Equal(t, http.StatusMisdirectedRequest,
		requestAs(t, s.http.URL, http.MethodGet, "/resume", evil, upgradeHeader("http://"+evil), ""),
		"the WebSocket upgrade of the issue's curl")
	for _, tt := range []struct{ method, path, body string }{
		{http.MethodPost, "/resume/stream", `{"v":1}`},
		{http.MethodPost, "/resume/send", `{"conn":"x","frame":{"t":"pong"}}`},
		{http.MethodGet, "/", ""},
		{http.MethodGet, s.srv.AppSrc, ""},
		{http.MethodGet, hooksSrc(t), ""},
		{http.MethodGet, "/favicon.svg", ""},
		{http.MethodGet, "/flysim/v1/apps/x", ""},
		{http.MethodGet, "/flysim/livebook/x/", ""},
		{http.MethodGet, "/healthz", ""},
		{http.MethodGet, "/nope", ""},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			assert.Equal(t, http.StatusMisdirectedRequest, requestAs(t, s.http.URL, tt.method, tt.path, evil, origin, tt.body))
		})
	}
	for _, host := range []string{"attacker.example", "ATTACKER.EXAMPLE:80", "localhost.attacker.example" + port,
		"127.0.0.1.attacker.example", "127.0.0.2" + port, "192.0.2.1" + port, "[2001:db8::1]" + port} {
		t.Run(host, func(t *testing.T) {
			assert.Equal(t, http.StatusMisdirectedRequest, requestAs(t, s.http.URL, http.MethodGet, "/", host, nil, ""))
		})
	}
}

func TestOwnHostsAreServed(t *testing.T) {
	s := newTestServerWith(t, 1000, func(o *config) {
		o.origins = []string{"https://launch.example.com", "*.proxy.example"}
		o.allowedHosts = []string{"alt.example.net", "*.lan.example:8443"}
	})
	port := testPort(t, s)
	for _, host := range []string{"127.0.0.1" + port, "localhost" + port, "[::1]" + port, "LocalHost",
		"launch.example.com", "a.proxy.example:443", "ALT.example.net" + port, "box.lan.example"} {
		t.Run(host, func(t *testing.T) {
			assert.Equal(t, http.StatusOK, requestAs(t, s.http.URL, http.MethodGet, "/", host, nil, ""))
			assert.Equal(t, http.StatusOK, requestAs(t, s.http.URL, http.MethodGet, "/healthz", host, nil, ""))
		})
	}

	// The page served under localhost connects under localhost.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.http.URL, "http")+"/resume", &websocket.DialOptions{
		Host:         "localhost" + port,
		Subprotocols: []string{"sealkit.resume.v1"},
		HTTPHeader:   http.Header{"Origin": {"http://localhost" + port}},
	})
	require.NoError(t, err)
	ws.CloseNow()
}

// TestRunServesOnlyItsHosts checks the flags reach the host check: run on
// a loopback address with -allowed-hosts and -origin.
func TestRunServesOnlyItsHosts(t *testing.T) {
	url, _, stop := runInBackground(t, []string{"-addr", "127.0.0.1:0", "-data-dir", t.TempDir(), "-sim-speed", "50",
		"-allowed-hosts", "launch.example.com", "-origin", "https://proxy.example.net"}, nil)
	base := strings.TrimSuffix(url, "/")
	for host, want := range map[string]int{
		"launch.example.com:8080": http.StatusOK,
		"proxy.example.net":       http.StatusOK,
		"localhost":               http.StatusOK,
		"attacker.example":        http.StatusMisdirectedRequest,
	} {
		assert.Equal(t, want, requestAs(t, base, http.MethodGet, "/", host, nil, ""), host)
	}
	require.NoError(t, stop())
}

// TestForgedForwardedForIsLimited is finding 5 of issue 8 end to end: behind
// a trusted proxy that appends the real client address as its own
// X-Forwarded-For line, a client that sends a different forged line with
// every request was admitted 12 times out of 12; it is limited at the
// burst like any client.
func TestForgedForwardedForIsLimited(t *testing.T) {
	s := newTestServerWith(t, 1000, func(o *config) { o.clientIPHeader = "X-Forwarded-For" })
	const attempts = 12
	admitted := 0
	for i := range attempts {
		h := http.Header{"X-Forwarded-For": {fmt.Sprintf("10.66.0.%d", i+1), "203.0.113.7"}}
		c, _ := dialResumeHeader(t, s.http.URL, "", h)
		c.read()
		r := c.action("launch", map[string]any{"app": fmt.Sprintf("forged-xff-%02d", i), "region": "iad", "size": "small"})
		if r.OK {
			admitted++
		} else {
			assert.Equal(t, sentence(errRateLimited.Error()), r.Error, "launch %d", i)
		}
		c.conn.CloseNow()
	}
	assert.Equal(t, launchBurst, admitted)
	logs := s.logs.String()
	assert.True(t, strings.Contains(logs, `"launch rate limited" client=203.0.113.7`), "the real client is limited")
	assert.False(t, strings.Contains(logs, "client=10.66.0."), "no forged address is taken for the client")
}

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
	assert.Equal(t, "too_many_connections", f.Code)
	assert.NotEmpty(t, f.Message)
}

// TestResumeConnectionsCappedPerClient is finding 6 of issue 8: one address
// opened 3,000 WebSockets and kept them. A client (an IPv4 address or an
// IPv6 /64) now holds at most maxConnsPerClient resume connections,
// WebSockets and event streams together; more get 429.
func TestResumeConnectionsCappedPerClient(t *testing.T) {
	const max = 3
	s := newTestServerWith(t, 1000, func(o *config) { o.maxConnsPerClient, o.clientIPHeader = max, "X-Forwarded-For" })
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
