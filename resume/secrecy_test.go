package resume_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/sealkit/sealkit/resume"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSendRefusesWebSocketConn proves that a POST to /send can only speak
// for a fallback stream: a WebSocket connection's ID (which a reader of
// logs or a network trace could learn) does not let anyone inject frames
// into the live WebSocket page.
func TestSendRefusesWebSocketConn(t *testing.T) {
	srv := startServer(t, newSealer(t), resume.Options{})
	c := dial(t, wsKind, srv.url, nil)
	w := expect(t, c, "welcome")
	expect(t, c, "restore")

	body := `{"conn":` + mustJSON(t, w.Conn) + `,"frame":{"t":"restored","v":1,"key":"launch","data":null}}`
	status, got := postSend(t, srv.url, nil, body)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Contains(t, string(got), `"code":"unknown_conn"`)

	// The WebSocket page itself is untouched: it still answers restore.
	send(t, c, map[string]any{"t": "restored", "v": 1, "key": testKey, "data": nil})
	assert.Equal(t, "fresh", expect(t, c, "result").Status)
}

// syncBuffer is a log sink safe for the handler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLogsNeverCarryConnID drives every path that logs (a rejected blob,
// a failing Open, a panicking Action) at the most verbose level and checks
// that no connection ID reaches the log: on the fallback transport the ID
// is the capability to speak for the connection.
func TestLogsNeverCarryConnID(t *testing.T) {
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			logs := &syncBuffer{}
			log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			srv := startServer(t, newSealer(t), resume.Options{Logger: log})
			var ids []string

			bad := "XCP.garbage"
			c := dial(t, kind, srv.url, nil)
			ids = append(ids, expect(t, c, "welcome").Conn)
			expect(t, c, "restore")
			send(t, c, map[string]any{"t": "restored", "v": 1, "key": testKey, "data": bad})
			assert.Equal(t, "invalid", expect(t, c, "result").Status)
			send(t, c, map[string]any{"t": "action", "id": "p", "name": "panic"})
			expect(t, c, "clear")
			assert.Equal(t, "internal", expect(t, c, "error").Code)
			c.close()

			srv.app.openHook = func(context.Context, *resume.Conn[launchState]) error {
				return errors.New("job store down")
			}
			c = dial(t, kind, srv.url, nil)
			ids = append(ids, expect(t, c, "welcome").Conn)
			expect(t, c, "restore")
			send(t, c, map[string]any{"t": "restored", "v": 1, "key": testKey, "data": nil})
			expect(t, c, "result")
			assert.Equal(t, "internal", expect(t, c, "error").Code)
			c.close()

			require.Contains(t, logs.String(), "open failed", "the paths under test must log")
			require.Contains(t, logs.String(), "panic")
			for _, id := range ids {
				assert.NotContains(t, logs.String(), id)
			}
		})
	}
}
