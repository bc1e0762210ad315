package resume

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"

	"github.com/sealkit/sealkit/seal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// heldTransport holds every write until release is closed, and records
// whether a write's context was canceled while it was held: a WebSocket
// write canceled mid-frame cuts the connection (coder/websocket).
type heldTransport struct {
	started  chan struct{}
	release  chan struct{}
	canceled atomic.Bool
}

func (h *heldTransport) write(ctx context.Context, _ []byte) error {
	select {
	case h.started <- struct{}{}:
	default:
	}
	select {
	case <-h.release:
		return nil
	case <-ctx.Done():
		h.canceled.Store(true)
		return ctx.Err()
	}
}

func (h *heldTransport) close(closeKind, errorCode) {}

type noApp struct{}

func (noApp) Open(context.Context, *Conn[int], Result[int]) error               { return nil }
func (noApp) Action(context.Context, *Conn[int], string, json.RawMessage) error { return nil }

// TestCanceledSenderNeverCutsAWrite: the ctx of a send bounds the wait for
// its write to start, not the write in flight: a Go goroutine replaced
// (its ctx canceled) while its frame is on the wire lets the frame finish,
// so the connection survives for the goroutine that replaced it.
func TestCanceledSenderNeverCutsAWrite(t *testing.T) {
	sealer, err := seal.New([]byte("a-test-key-base-that-is-long-enough-0123456789"))
	require.NoError(t, err)
	h, err := New[int](sealer, noApp{}, Options{Key: "k"})
	require.NoError(t, err)
	tr := &heldTransport{started: make(chan struct{}, 1), release: make(chan struct{})}
	c := newConn(h, peer{}, tr)
	first := make(chan error, 1)
	c.Go(func(ctx context.Context) { first <- c.Event(ctx, 1, "on the wire") })
	<-tr.started
	second := make(chan error, 1)
	c.Go(func(ctx context.Context) { second <- c.Event(ctx, 2, "next") }) // cancels the first's ctx
	close(tr.release)
	assert.NoError(t, <-first, "the frame in flight completes")
	assert.NoError(t, <-second)
	assert.False(t, tr.canceled.Load(), "no write was canceled mid-frame")
	c.end(closeNormal, "", "")
	c.wait()
}
