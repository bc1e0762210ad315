package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClientAddr(t *testing.T) {
	tests := []struct {
		name      string
		trust     bool
		remote    string
		forwarded []string // X-Forwarded-For lines, in order
		want      string
	}{
		{"peer", false, "198.51.100.7:5555", nil, "198.51.100.7"},
		{"peer IPv6", false, "[2001:db8::7]:5555", nil, "2001:db8::7"},
		{"peer IPv4-mapped", false, "[::ffff:198.51.100.7]:5555", nil, "198.51.100.7"},
		{"forwarded ignored unless trusted", false, "10.0.0.1:5555", []string{"203.0.113.1"}, "10.0.0.1"},
		{"trusted: one entry", true, "10.0.0.1:5555", []string{"203.0.113.1"}, "203.0.113.1"},
		{"trusted: right-most of a list", true, "10.0.0.1:5555", []string{"192.0.2.66, 203.0.113.1"}, "203.0.113.1"},
		// Finding 5 of issue 8: the client sends the first line, the
		// proxy appends the second; Header.Get read the forged one.
		{"trusted: forged first line", true, "10.0.0.1:5555", []string{"10.66.0.1", "203.0.113.7"}, "203.0.113.7"},
		{"trusted: right-most across lines", true, "10.0.0.1:5555", []string{"10.66.0.1, 10.66.0.2", "192.0.2.9,203.0.113.7"}, "203.0.113.7"},
		{"trusted: IPv6", true, "10.0.0.1:5555", []string{"2001:db8::1"}, "2001:db8::1"},
		{"trusted: with port", true, "10.0.0.1:5555", []string{"[2001:db8::1]:4711"}, "2001:db8::1"},
		{"trusted: IPv4-mapped", true, "10.0.0.1:5555", []string{"::ffff:203.0.113.1"}, "203.0.113.1"},
		{"trusted: garbage falls back to the peer", true, "10.0.0.1:5555", []string{"not-an-ip"}, "10.0.0.1"},
		{"trusted: garbage right-most never falls back to the left", true, "10.0.0.1:5555", []string{"10.66.0.1", "203.0.113.7, unknown"}, "10.0.0.1"},
		{"trusted: empty last line falls back to the peer", true, "10.0.0.1:5555", []string{"10.66.0.1", ""}, "10.0.0.1"},
		{"trusted: trailing comma falls back to the peer", true, "10.0.0.1:5555", []string{"10.66.0.1,"}, "10.0.0.1"},
		{"trusted: no header", true, "10.0.0.1:5555", nil, "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.forwarded {
				r.Header.Add("X-Forwarded-For", v)
			}
			assert.Equal(t, tt.want, clientAddr(r, clientSource{forwarded: tt.trust}).String())
		})
	}
}

// TestClientAddrFromHeader reads the client from a header a trusted proxy
// sets, as Fly.io's proxy sets Fly-Client-IP; X-Forwarded-For, whose
// right-most entry on Fly is the app's own address, is then ignored.
func TestClientAddrFromHeader(t *testing.T) {
	fly := clientSource{header: "Fly-Client-IP"}
	tests := []struct {
		name   string
		lines  []string // Fly-Client-IP lines, in order
		xff    string
		source clientSource
		want   string
	}{
		{"set by the proxy", []string{"203.0.113.7"}, "203.0.113.7, 66.241.124.10", fly, "203.0.113.7"},
		{"IPv6", []string{"2001:db8::7"}, "", fly, "2001:db8::7"},
		{"a client's copy comes first", []string{"10.66.0.1", "203.0.113.7"}, "", fly, "203.0.113.7"},
		{"a list: the right-most entry", []string{"10.66.0.1, 203.0.113.7"}, "", fly, "203.0.113.7"},
		{"absent: the peer", nil, "203.0.113.7, 66.241.124.10", fly, "10.0.0.1"},
		{"garbage: the peer", []string{"203.0.113.7", "unknown"}, "", fly, "10.0.0.1"},
		{"not trusted: the peer", []string{"203.0.113.7"}, "", clientSource{}, "10.0.0.1"},
		{"X-Forwarded-For trusted instead", []string{"203.0.113.7"}, "203.0.113.7, 66.241.124.10", clientSource{forwarded: true}, "66.241.124.10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = "10.0.0.1:5555"
			for _, v := range tt.lines {
				r.Header.Add("Fly-Client-IP", v)
			}
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			assert.Equal(t, tt.want, clientAddr(r, tt.source).String())
		})
	}
}

func TestClientAddrInvalidPeer(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "pipe"
	assert.False(t, clientAddr(r, clientSource{}).IsValid())
	assert.Equal(t, netip.Prefix{}, clientKey(clientAddr(r, clientSource{})))
}

func FuzzClientAddr(f *testing.F) {
	f.Add("10.0.0.1:1", "10.66.0.1", "203.0.113.7")
	f.Add("[::1]:1", "", "2001:db8::1, [2001:db8::2]:80")
	f.Add("x", "a,b", ",")
	f.Fuzz(func(t *testing.T, remote, first, last string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		r.Header["X-Forwarded-For"] = []string{first, last}
		got := clientAddr(r, clientSource{forwarded: true})
		peer := clientAddr(r, clientSource{})
		if got != peer {
			// Only the right-most entry may name the client.
			entry := strings.TrimSpace(last[strings.LastIndexByte(last, ',')+1:])
			require.Equal(t, parseAddr(entry), got)
			require.True(t, got.IsValid())
		}
		require.False(t, got.Is4In6(), "mapped addresses come back as IPv4")
		_ = clientKey(got)
	})
}

func TestClientKey(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"192.0.2.1", "192.0.2.1/32"},
		{"::ffff:192.0.2.1", "192.0.2.1/32"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::1%eth0", "2001:db8:1:2::/64"},
		{"::1", "::/64"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			assert.Equal(t, tt.want, clientKey(netip.MustParseAddr(tt.addr)).String())
		})
	}
}

// TestForgedForwardedForIsLimited is finding 5 of issue 8 end to end: behind
// a trusted proxy that appends the real client address as its own
// X-Forwarded-For line, a client that sends a different forged line with
// every request was admitted 12 times out of 12; it is limited at the
// burst like any client.
func TestForgedForwardedForIsLimited(t *testing.T) {
	s := newTestServerWith(t, 1000, func(o *serverOptions) { o.clients.forwarded = true })
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
