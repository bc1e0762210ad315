package resume_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/resume"
)

// requireTooMany checks a refusal over the cap: 429 and an error frame.
func requireTooMany(t *testing.T, resp *http.Response) {
	t.Helper()
	require.NotNil(t, resp)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var f struct{ T, Code, Message string }
	require.NoError(t, json.Unmarshal(body, &f), "%s", body)
	assert.Equal(t, "error", f.T)
	assert.Equal(t, "too_many_connections", f.Code)
	assert.NotEmpty(t, f.Message)
}

// TestMaxConnsPerClient: a client (an IPv4 address or an IPv6 /64) holds
// at most MaxConnsPerClient connections, WebSockets and event streams
// together; more get 429. Other clients are not affected, and a closed
// connection frees its place.
func TestMaxConnsPerClient(t *testing.T) {
	const limit = 3
	srv := startServer(t, newSealer(t), resume.Options{MaxConnsPerClient: limit, ClientAddr: resume.ClientAddrFrom("X-Forwarded-For")})
	alice := http.Header{"X-Forwarded-For": {"2001:db8:7:7::1"}}
	sameClient := http.Header{"X-Forwarded-For": {"2001:db8:7:7:ffff::2"}} // same /64
	other := http.Header{"X-Forwarded-For": {"2001:db8:7:8::1"}}

	var open []client
	for i, tt := range []struct {
		kind transportKind
		hdr  http.Header
	}{{wsKind, alice}, {sseKind, sameClient}, {wsKind, sameClient}} {
		c := dial(t, tt.kind, srv.url, tt.hdr)
		assert.Equal(t, "fresh", handshake(t, c, testKey, nil).Status, "connection %d", i)
		srv.app.nextOpen(t)
		open = append(open, c)
	}
	require.Len(t, open, limit)

	for _, kind := range transports {
		t.Run(string(kind)+" over the cap", func(t *testing.T) {
			_, resp, err := tryDial(kind, srv.url, alice)
			require.Error(t, err)
			requireTooMany(t, resp)
		})
	}

	c := dial(t, wsKind, srv.url, other)
	assert.Equal(t, "fresh", handshake(t, c, testKey, nil).Status, "another client is not affected")
	srv.app.nextOpen(t)
	c = dial(t, sseKind, srv.url, nil)
	assert.Equal(t, "fresh", handshake(t, c, testKey, nil).Status, "nor the proxy's own address")
	srv.app.nextOpen(t)

	// A closed connection frees its place once the server has seen it end.
	open[1].close()
	require.Eventually(t, func() bool {
		c, _, err := tryDial(wsKind, srv.url, alice)
		if err != nil {
			return false
		}
		c.close()
		return true
	}, waitTimeout, 20*time.Millisecond, "the client may connect again")
}

// TestMaxConnsPerClientOne: with a cap of one, a fallback connection still
// works, since its POSTs to B/send are not connections of their own.
func TestMaxConnsPerClientOne(t *testing.T) {
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			srv := startServer(t, newSealer(t), resume.Options{MaxConnsPerClient: 1})
			tok := storeState(t, kind, srv, nil) // handshake and action over B/send
			var c client
			require.Eventually(t, func() bool {
				var err error
				c, _, err = tryDial(kind, srv.url, nil)
				return err == nil
			}, waitTimeout, 20*time.Millisecond, "the first connection's place is free again")
			t.Cleanup(c.close)
			assert.Equal(t, "resumed", handshake(t, c, testKey, &tok).Status)
		})
	}
}

func TestMaxConnsPerClientValidates(t *testing.T) {
	_, err := resume.New(newSealer(t), resume.App[int](nopApp{}), resume.Options{Key: "k", MaxConnsPerClient: -1})
	require.ErrorIs(t, err, resume.ErrInvalidOptions)
}
