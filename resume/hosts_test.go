package resume_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/resume"
)

// okHandler answers 200 to whatever reaches it.
var okHandler = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

// statusFor returns the status h answers a GET / with Host host.
func statusFor(h http.Handler, host string) int {
	r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/"}, Host: host, Header: http.Header{}}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

// TestAllowHosts covers what a server answers to: its listen address
// (ListenHosts), the hosts of its allowed origins and its extra names, as
// the example launcher composes them.
func TestAllowHosts(t *testing.T) {
	tests := []struct {
		name     string
		addr     string
		origins  []string
		allowed  []string
		serves   []string
		refuses  []string
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
		{
			name:    "IP prefixes",
			addr:    "127.0.0.1:8080",
			allowed: []string{"192.168.0.0/16", "2001:db8:1::/48"},
			serves:  []string{"192.168.7.9:8080", "[2001:db8:1:2::3]", "[::ffff:192.168.0.1]"},
			refuses: []string{"192.169.0.1", "[2001:db8:2::1]", "192.168.0.1.nip.io"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hosts, err := resume.ListenHosts(tt.addr)
			require.NoError(t, err)
			assert.Equal(t, tt.wildcard, strings.Contains(strings.Join(hosts, " "), "0.0.0.0/0"))
			h, err := resume.AllowHosts(okHandler, append(append(hosts, tt.origins...), tt.allowed...)...)
			require.NoError(t, err)
			for _, host := range tt.serves {
				assert.Equal(t, http.StatusOK, statusFor(h, host), "serves %q", host)
			}
			for _, host := range tt.refuses {
				assert.Equal(t, http.StatusMisdirectedRequest, statusFor(h, host), "refuses %q", host)
			}
		})
	}
}

func TestAllowHostsValidates(t *testing.T) {
	tests := []struct {
		name  string
		next  http.Handler
		hosts []string
	}{
		{"no hosts", okHandler, nil},
		{"nil handler", nil, []string{"localhost"}},
		{"empty host", okHandler, []string{""}},
		{"port only", okHandler, []string{":8080"}},
		{"bad pattern", okHandler, []string{"[x"}},
		{"URL with a path", okHandler, []string{"https://a.example/"}},
		{"origin with a path", okHandler, []string{"https://a.example/x"}},
		{"user info", okHandler, []string{"user@a.example"}},
		{"space", okHandler, []string{"a .example"}},
		{"non-ASCII host", okHandler, []string{"bücher.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := resume.AllowHosts(tt.next, tt.hosts...)
			require.ErrorIs(t, err, resume.ErrInvalidHost)
			assert.Nil(t, h)
		})
	}
}

func TestListenHostsValidates(t *testing.T) {
	for _, addr := range []string{"127.0.0.1", "", "[::1", "a:b:c"} {
		t.Run(addr, func(t *testing.T) {
			_, err := resume.ListenHosts(addr)
			require.ErrorIs(t, err, resume.ErrInvalidHost)
		})
	}
}

// TestAllowHostsStopsRebinding is DNS rebinding against a resume handler:
// a page on attacker.example, whose name resolves to the server's address,
// sends Origin and Host both naming attacker.example. The handler alone
// takes that for same-origin and upgrades; behind AllowHosts every
// transport answers 421, and the server's own name still connects.
func TestAllowHostsStopsRebinding(t *testing.T) {
	h, err := resume.New(newSealer(t), resume.App[launchState](newTestApp()), resume.Options{Key: testKey})
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.Shutdown(context.Background()) })
	guarded, err := resume.AllowHosts(h, "localhost")
	require.NoError(t, err)
	srv := httptest.NewServer(guarded)
	t.Cleanup(srv.Close)
	port := srv.URL[strings.LastIndexByte(srv.URL, ':'):]
	evil := "attacker.example" + port

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + "/resume"
	_, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{
		Host: evil, Subprotocols: []string{resume.Subprotocol},
		HTTPHeader: http.Header{"Origin": {"http://" + evil}},
	})
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusMisdirectedRequest, resp.StatusCode, "the WebSocket upgrade")

	for _, path := range []string{"/resume/stream", "/resume/send"} {
		t.Run(path, func(t *testing.T) {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path, strings.NewReader(`{"v":1}`))
			require.NoError(t, err)
			req.Host = evil
			req.Header.Set("Origin", "http://"+evil)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusMisdirectedRequest, resp.StatusCode)
		})
	}

	ws, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{
		Host: "localhost" + port, Subprotocols: []string{resume.Subprotocol},
		HTTPHeader: http.Header{"Origin": {"http://localhost" + port}},
	})
	require.NoError(t, err, "the server's own name connects")
	ws.CloseNow()
}

// FuzzAllowHosts checks the entry parser and the Host match: no panic, a
// refused entry wraps ErrInvalidHost, ASCII case never matters, and only
// the listed names pass a fixed list.
func FuzzAllowHosts(f *testing.F) {
	for _, s := range [][2]string{
		{"launch.example.com", "LAUNCH.example.com:443"},
		{"*.proxy.example", "a.proxy.example"},
		{"10.0.0.0/8", "[::ffff:10.1.2.3]:80"},
		{"https://app.test:8443", "app.test"},
		{"[", "]:"},
		{"a:b:c", "[::1]"},
		{"[a-Z]", "B"},
	} {
		f.Add(s[0], s[1])
	}
	fixed, err := resume.AllowHosts(okHandler, "127.0.0.1", "localhost", "::1", "*.proxy.example", "*.lan.example")
	require.NoError(f, err)
	upper := func(s string) string {
		b := []byte(s)
		for i, c := range b {
			if 'a' <= c && c <= 'z' {
				b[i] = c - 'a' + 'A'
			}
		}
		return string(b)
	}
	f.Fuzz(func(t *testing.T, entry, host string) {
		h, err := resume.AllowHosts(okHandler, entry)
		if err != nil {
			require.ErrorIs(t, err, resume.ErrInvalidHost)
		} else {
			hu, err := resume.AllowHosts(okHandler, upper(entry))
			require.NoError(t, err, "ASCII case of an entry does not matter")
			require.Equal(t, statusFor(h, host), statusFor(hu, upper(host)), "ASCII case does not matter")
		}

		got := statusFor(fixed, host)
		require.Equal(t, got, statusFor(fixed, upper(host)), "ASCII case does not matter")
		if got == http.StatusOK {
			// Whatever passes is one of the listed names, with or without
			// a port.
			name := host
			if h, _, err := net.SplitHostPort(host); err == nil {
				name = h
			}
			name = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(name, "["), "]"))
			if a, err := netip.ParseAddr(name); err == nil {
				name = a.Unmap().String()
			}
			require.True(t, name == "127.0.0.1" || name == "::1" || name == "localhost" ||
				strings.HasSuffix(name, ".proxy.example") || strings.HasSuffix(name, ".lan.example"), "%q passed as %q", host, name)
		}
	})
}
