package resume_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/resume"
)

func TestClientAddrFromForwardedFor(t *testing.T) {
	tests := []struct {
		name      string
		header    string // ClientAddrFrom's argument
		remote    string
		forwarded []string // X-Forwarded-For lines, in order
		want      string
	}{
		{"peer", "", "198.51.100.7:5555", nil, "198.51.100.7"},
		{"peer IPv6", "", "[2001:db8::7]:5555", nil, "2001:db8::7"},
		{"peer IPv4-mapped", "", "[::ffff:198.51.100.7]:5555", nil, "198.51.100.7"},
		{"forwarded ignored unless trusted", "", "10.0.0.1:5555", []string{"203.0.113.1"}, "10.0.0.1"},
		{"trusted: one entry", "X-Forwarded-For", "10.0.0.1:5555", []string{"203.0.113.1"}, "203.0.113.1"},
		{"trusted: header name in any case", "x-forwarded-for", "10.0.0.1:5555", []string{"203.0.113.1"}, "203.0.113.1"},
		{"trusted: right-most of a list", "X-Forwarded-For", "10.0.0.1:5555", []string{"192.0.2.66, 203.0.113.1"}, "203.0.113.1"},
		// The client sends the first line, the proxy appends the second:
		// Header.Get would read the forged one.
		{"trusted: forged first line", "X-Forwarded-For", "10.0.0.1:5555", []string{"10.66.0.1", "203.0.113.7"}, "203.0.113.7"},
		{"trusted: right-most across lines", "X-Forwarded-For", "10.0.0.1:5555", []string{"10.66.0.1, 10.66.0.2", "192.0.2.9,203.0.113.7"}, "203.0.113.7"},
		{"trusted: IPv6", "X-Forwarded-For", "10.0.0.1:5555", []string{"2001:db8::1"}, "2001:db8::1"},
		{"trusted: with port", "X-Forwarded-For", "10.0.0.1:5555", []string{"[2001:db8::1]:4711"}, "2001:db8::1"},
		{"trusted: IPv4 with port", "X-Forwarded-For", "10.0.0.1:5555", []string{"203.0.113.1:4711"}, "203.0.113.1"},
		{"trusted: IPv4-mapped", "X-Forwarded-For", "10.0.0.1:5555", []string{"::ffff:203.0.113.1"}, "203.0.113.1"},
		{"trusted: garbage falls back to the peer", "X-Forwarded-For", "10.0.0.1:5555", []string{"not-an-ip"}, "10.0.0.1"},
		{"trusted: garbage right-most never falls back to the left", "X-Forwarded-For", "10.0.0.1:5555", []string{"10.66.0.1", "203.0.113.7, unknown"}, "10.0.0.1"},
		{"trusted: empty last line falls back to the peer", "X-Forwarded-For", "10.0.0.1:5555", []string{"10.66.0.1", ""}, "10.0.0.1"},
		{"trusted: trailing comma falls back to the peer", "X-Forwarded-For", "10.0.0.1:5555", []string{"10.66.0.1,"}, "10.0.0.1"},
		{"trusted: no header", "X-Forwarded-For", "10.0.0.1:5555", nil, "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.forwarded {
				r.Header.Add("X-Forwarded-For", v)
			}
			assert.Equal(t, tt.want, resume.ClientAddrFrom(tt.header)(r).String())
		})
	}
}

// TestClientAddrFromSetHeader reads the client from a header a trusted
// proxy sets, as Fly.io's proxy sets Fly-Client-IP; X-Forwarded-For, whose
// right-most entry on Fly is the app's own address, is then ignored.
func TestClientAddrFromSetHeader(t *testing.T) {
	tests := []struct {
		name   string
		lines  []string // Fly-Client-IP lines, in order
		xff    string
		header string
		want   string
	}{
		{"set by the proxy", []string{"203.0.113.7"}, "203.0.113.7, 66.241.124.10", "Fly-Client-IP", "203.0.113.7"},
		{"IPv6", []string{"2001:db8::7"}, "", "Fly-Client-IP", "2001:db8::7"},
		{"a client's copy comes first", []string{"10.66.0.1", "203.0.113.7"}, "", "Fly-Client-IP", "203.0.113.7"},
		{"a list: the right-most entry", []string{"10.66.0.1, 203.0.113.7"}, "", "Fly-Client-IP", "203.0.113.7"},
		{"absent: the peer", nil, "203.0.113.7, 66.241.124.10", "Fly-Client-IP", "10.0.0.1"},
		{"garbage: the peer", []string{"203.0.113.7", "unknown"}, "", "Fly-Client-IP", "10.0.0.1"},
		{"not trusted: the peer", []string{"203.0.113.7"}, "", "", "10.0.0.1"},
		{"X-Forwarded-For trusted instead", []string{"203.0.113.7"}, "203.0.113.7, 66.241.124.10", "X-Forwarded-For", "66.241.124.10"},
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
			assert.Equal(t, tt.want, resume.ClientAddrFrom(tt.header)(r).String())
		})
	}
}

func TestClientAddrFromInvalidPeer(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "pipe"
	a := resume.ClientAddrFrom("X-Forwarded-For")(r)
	assert.False(t, a.IsValid())
	assert.Equal(t, netip.Prefix{}, resume.ClientKey(a), "invalid addresses share one key")
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
			assert.Equal(t, tt.want, resume.ClientKey(netip.MustParseAddr(tt.addr)).String())
		})
	}
	assert.Equal(t, netip.Prefix{}, resume.ClientKey(netip.Addr{}))
}

// FuzzClientAddrFrom checks the header parser: only the right-most entry
// of the last line may name the client, and it names it as parsed.
func FuzzClientAddrFrom(f *testing.F) {
	f.Add("10.0.0.1:1", "10.66.0.1", "203.0.113.7")
	f.Add("[::1]:1", "", "2001:db8::1, [2001:db8::2]:80")
	f.Add("x", "a,b", ",")
	f.Add("10.0.0.1:1", "", "::ffff:1.2.3.4%eth0")
	f.Fuzz(func(t *testing.T, remote, first, last string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		r.Header["X-Forwarded-For"] = []string{first, last}
		got := resume.ClientAddrFrom("X-Forwarded-For")(r)
		peer := resume.ClientAddrFrom("")(r)
		if got != peer {
			require.True(t, got.IsValid())
			entry := strings.TrimSpace(last[strings.LastIndexByte(last, ',')+1:])
			want, err := netip.ParseAddr(entry)
			if ap, perr := netip.ParseAddrPort(entry); perr == nil {
				want, err = ap.Addr(), nil
			}
			require.NoError(t, err, "only the right-most entry names the client: %q", entry)
			require.Equal(t, want.Unmap(), got)
		}
		require.False(t, got.Is4In6(), "mapped addresses come back as IPv4")
		k := resume.ClientKey(got)
		require.Equal(t, got.IsValid(), k.IsValid())
		if k.IsValid() {
			require.True(t, k.Contains(got.WithZone("")) || k.Contains(got.Unmap().WithZone("")))
		}
	})
}
