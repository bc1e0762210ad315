package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFlyReplayNamesTheMachine runs two launchers as two Fly machines: a
// fallback POST for a stream that one holds, reaching the other, is
// answered with a fly-replay naming the holder, unless Fly already
// replayed it once.
func TestFlyReplayNamesTheMachine(t *testing.T) {
	a := newTestServerWith(t, 1000, func(o *config) { o.flyMachineID = "148ed193b95089" })
	b := newTestServerWith(t, 1000, func(o *config) { o.flyMachineID = "9080e6f3a12387" })
	conn := openStream(t, a.http.URL).conn
	require.True(t, strings.HasPrefix(conn, "148ed193b95089."), "the connection ID names the machine")

	body := `{"conn":"` + conn + `","frame":{"t":"pong"}}`
	tests := []struct {
		name      string
		replayed  bool
		status    int
		flyReplay string
	}{
		{"first delivery", false, http.StatusConflict, "instance=148ed193b95089"},
		{"already replayed once", true, http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, b.http.URL+"/resume/send", strings.NewReader(body))
			require.NoError(t, err)
			if tt.replayed {
				req.Header.Set("Fly-Replay-Src", "instance=0e286039f42e86;region=ams;t=1767225600000000")
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.flyReplay, resp.Header.Get("Fly-Replay"))
		})
	}
	resp, err := http.Post(a.http.URL+"/resume/send", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode, "the holder takes the replayed request")
	assert.NotContains(t, a.logs.String()+b.logs.String(), conn, "no log carries the connection ID")
}

// TestNoReplayOffFly: without a machine ID (off Fly) connection IDs name no
// instance and a POST for another instance's stream is 404 unknown_conn.
func TestNoReplayOffFly(t *testing.T) {
	a := newTestServerWith(t, 1000, func(*config) {})
	b := newTestServerWith(t, 1000, func(*config) {})
	conn := openStream(t, a.http.URL).conn
	assert.NotContains(t, conn, ".")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.http.URL+"/resume/send", strings.NewReader(`{"conn":"`+conn+`","frame":{"t":"pong"}}`))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Fly-Replay"))
}
