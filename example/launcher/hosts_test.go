package main

import (
	"context"
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
		{http.MethodGet, s.srv.HooksSrc, ""},
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
	s := newTestServerWith(t, 1000, func(o *serverOptions) {
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

func TestHostPolicy(t *testing.T) {
	tests := []struct {
		name     string
		addr     string
		origins  []string
		allowed  []string
		serves   []string
		refuses  []string
		wantErr  bool
		wildcard bool
	}{
		{
			name:    "loopback IPv4",
			addr:    "127.0.0.1:8080",
			serves:  []string{"127.0.0.1:8080", "127.0.0.1", "localhost:8080", "LOCALHOST", "[::1]:8080", "[::1]", "::1", "[::ffff:127.0.0.1]:1"},
			refuses: []string{"", "attacker.example:8080", "127.0.0.2:8080", "10.0.0.1", "[2001:db8::1]", "localhost.", "127.0.0.1.nip.io", "0.0.0.0", "localhoſt"},
		},
		{
			name:    "loopback IPv6",
			addr:    "[::1]:0",
			serves:  []string{"[::1]:9", "127.0.0.1", "localhost"},
			refuses: []string{"attacker.example", "[::2]"},
		},
		{
			name:    "localhost",
			addr:    "localhost:8080",
			serves:  []string{"localhost:1", "127.0.0.1", "[::1]"},
			refuses: []string{"attacker.example"},
		},
		{
			name:    "other loopback address",
			addr:    "127.0.0.5:8080",
			serves:  []string{"127.0.0.5", "127.0.0.1", "localhost"},
			refuses: []string{"127.0.0.6"},
		},
		{
			name:    "specific address",
			addr:    "10.1.2.3:8080",
			serves:  []string{"10.1.2.3:8080"},
			refuses: []string{"10.1.2.4", "127.0.0.1", "localhost", "attacker.example"},
		},
		{
			name:    "specific IPv6 address",
			addr:    "[2001:DB8::5]:8080",
			serves:  []string{"[2001:db8::5]:8080", "[2001:db8:0::5]"},
			refuses: []string{"[2001:db8::6]", "localhost"},
		},
		{
			name:    "host name",
			addr:    "Launcher.Internal:8080",
			serves:  []string{"launcher.internal:8080", "LAUNCHER.internal"},
			refuses: []string{"127.0.0.1", "localhost", "x.launcher.internal"},
		},
		{
			name:     "wildcard",
			addr:     ":8080",
			serves:   []string{"localhost:8080", "127.0.0.1", "[::1]", "10.0.0.7:8080", "[fdaa:0:1:a7b::2]:8080", "203.0.113.9"},
			refuses:  []string{"attacker.example", "launcher.fly.dev", "", "10.0.0.7.nip.io"},
			wildcard: true,
		},
		{name: "wildcard IPv4", addr: "0.0.0.0:8080", serves: []string{"192.0.2.1"}, refuses: []string{"a.example"}, wildcard: true},
		{name: "wildcard IPv6", addr: "[::]:8080", serves: []string{"[2001:db8::1]"}, refuses: []string{"a.example"}, wildcard: true},
		{
			name:    "origins and allowed hosts",
			addr:    ":8080",
			origins: []string{"https://launch.example.com", "*.example.org", "http://app.test:8443"},
			allowed: []string{"launcher.fly.dev", "[2001:db8::9]", "Box-?.lan", "*.ts.net:443"},
			serves: []string{"launch.example.com", "launch.example.com:443", "a.example.org", "app.test:8443", "app.test",
				"launcher.fly.dev", "LAUNCHER.FLY.DEV:443", "[2001:db8::9]:80", "box-1.lan", "m.tail.ts.net"},
			refuses:  []string{"example.org", "evil.example.com", "box-12.lan", "attacker.example"},
			wildcard: true,
		},
		{name: "bad listen address", addr: "127.0.0.1", wantErr: true},
		{name: "bad pattern", addr: ":1", allowed: []string{"[x"}, wantErr: true},
		{name: "URL as allowed host", addr: ":1", allowed: []string{"https://a.example/"}, wantErr: true},
		{name: "origin with a path", addr: ":1", origins: []string{"https://a.example/x"}, wantErr: true},
		{name: "non-ASCII host", addr: ":1", allowed: []string{"bücher.example"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := newHostPolicy(tt.addr, tt.origins, tt.allowed)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wildcard, p.anyIP)
			for _, h := range tt.serves {
				assert.True(t, p.allows(h), "serves %q", h)
			}
			for _, h := range tt.refuses {
				assert.False(t, p.allows(h), "refuses %q", h)
			}
		})
	}
}

func FuzzHostPolicy(f *testing.F) {
	for _, h := range []string{"127.0.0.1:8080", "[::1]", "LOCALHOST", "attacker.example:1", "[", "]:", "a:b:c", "[::ffff:1.2.3.4]:1", "x.lan.example"} {
		f.Add(h)
	}
	p, err := newHostPolicy("127.0.0.1:8080", []string{"*.proxy.example"}, []string{"*.lan.example"})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, host string) {
		got := p.allows(host)
		upper := []byte(host)
		for i, c := range upper {
			if 'a' <= c && c <= 'z' {
				upper[i] = c - 'a' + 'A'
			}
		}
		require.Equal(t, got, p.allows(string(upper)), "ASCII case does not matter")
		if got {
			// Whatever passes is one of the launcher's names, with or
			// without a port.
			h := canonicalHost(host)
			require.True(t, h == "127.0.0.1" || h == "::1" || h == "localhost" ||
				strings.HasSuffix(h, ".proxy.example") || strings.HasSuffix(h, ".lan.example"), "%q -> %q", host, h)
		}
	})
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
