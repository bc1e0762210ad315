package resume_test

import (
	"context"
	"sync"
	"testing"

	"github.com/sealkit/sealkit/resume"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConnGo: the goroutine Conn.Go starts replaces the previous one only
// once that one has returned (the page never gets its frames after the
// new one's), may call Go itself, ends with the connection, and Shutdown
// waits for it; Go on an ended connection runs nothing.
func TestConnGo(t *testing.T) {
	srv := startServer(t, newSealer(t), resume.Options{})
	c := dial(t, wsKind, srv.url, nil)
	handshake(t, c, testKey, nil)
	conn := srv.app.nextConn(t)

	var mu sync.Mutex
	var order []string
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	firstRunning := make(chan struct{})
	conn.Go(func(ctx context.Context) {
		close(firstRunning)
		<-ctx.Done()
		note("first returned")
	})
	<-firstRunning
	nested := make(chan struct{})
	conn.Go(func(ctx context.Context) {
		note("second started")
		conn.Go(func(ctx context.Context) { // Go from a Go goroutine
			note("third started")
			close(nested)
			<-ctx.Done()
		})
		note("second returned")
	})
	<-nested
	mu.Lock()
	assert.Equal(t, []string{"first returned", "second started", "second returned", "third started"}, order)
	mu.Unlock()

	// Shutdown ends the connection, cancels the third's ctx and waits for it.
	release := make(chan struct{})
	ended := make(chan struct{})
	conn.Go(func(ctx context.Context) {
		<-ctx.Done()
		close(ended)
		<-release
	})
	go func() { // the client reads to the end, as a browser does
		for _, ok := c.next(t); ok; _, ok = c.next(t) {
		}
	}()
	shut := make(chan error, 1)
	go func() { shut <- srv.h.Shutdown(context.Background()) }()
	<-ended
	select {
	case err := <-shut:
		require.FailNow(t, "Shutdown returned while a Go goroutine runs", "%v", err)
	default:
	}
	close(release)
	require.NoError(t, <-shut)

	ran := false
	conn.Go(func(context.Context) { ran = true })
	assert.False(t, ran, "an ended connection runs nothing")
}
