package resume_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/sealkit/sealkit/resume"
	"github.com/sealkit/sealkit/seal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSealHandsOutABlob: a blob from Handler.Seal, handed back by a client
// that got it in a link, resumes the state on either transport; after
// Options.MaxAge it is expired, tampered it is invalid, and a Handler
// that binds blobs to sessions makes none.
func TestSealHandsOutABlob(t *testing.T) {
	stored := timedJob{Name: "linked", Started: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	for _, kind := range transports {
		t.Run(string(kind), func(t *testing.T) {
			app := connApp[timedJob]{conns: make(chan *resume.Conn[timedJob], 4), opened: make(chan resume.Result[timedJob], 4)}
			h, url := serve(t, newSealer(t), resume.App[timedJob](app), resume.Options{})
			blob, err := h.Seal(stored)
			require.NoError(t, err)

			c := dial(t, kind, url, nil)
			assert.Equal(t, "resumed", handshake(t, c, testKey, &blob).Status)
			r := receive(t, app.opened)
			require.Equal(t, resume.StatusResumed, r.Status)
			assert.Equal(t, stored.Name, r.State.Name)
			assert.True(t, stored.Started.Equal(r.State.Started))
			st, ok := receive(t, app.conns).State()
			require.True(t, ok)
			assert.Equal(t, stored.Name, st.Name)

			bad := tamper(blob)
			c = dial(t, kind, url, nil)
			assert.Equal(t, "invalid", handshake(t, c, testKey, &bad).Status)
			receive(t, app.opened)
			receive(t, app.conns)
		})
	}

	t.Run("expired", func(t *testing.T) {
		now := time.Now()
		h, _ := serve(t, newSealer(t), resume.App[timedJob](connApp[timedJob]{}), resume.Options{MaxAge: time.Minute})
		blob, err := h.Seal(stored)
		require.NoError(t, err)
		later := startServer(t, newSealer(t, seal.WithClock(func() time.Time { return now.Add(2 * time.Minute) })), resume.Options{})
		c := dial(t, wsKind, later.url, nil)
		assert.Equal(t, "expired", handshake(t, c, testKey, &blob).Status)
	})

	t.Run("bound handler", func(t *testing.T) {
		h, err := resume.New(newSealer(t), resume.App[timedJob](connApp[timedJob]{}), resume.Options{
			Key: testKey, Bind: func(*http.Request) (string, error) { return "session", nil },
		})
		require.NoError(t, err)
		_, err = h.Seal(stored)
		require.ErrorIs(t, err, resume.ErrUnbound)
	})
}
