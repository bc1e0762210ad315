package resume

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeDrainsInOrder: on ctx's end Serve stops accepting before it
// calls the app's shutdown, and an in-flight request that only the app's
// shutdown ends (an event stream) ends the drain cleanly; grace is never
// waited out.
func TestServeDrainsInOrder(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	streamEnd := make(chan struct{})
	inFlight := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		close(inFlight)
		<-streamEnd // a stream the app's shutdown ends
	})}
	var acceptedAtShutdown error
	shutdown := func(context.Context) error {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			acceptedAtShutdown = errors.New("a connection was accepted")
		}
		close(streamEnd)
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, srv, ln, 30*time.Second, shutdown) }()
	resp, err := http.Get("http://" + addr + "/stream")
	require.NoError(t, err)
	defer resp.Body.Close()
	<-inFlight
	cancel()
	require.NoError(t, <-done, "the drain ends with the stream, not at grace")
	assert.NoError(t, acceptedAtShutdown, "no connection is accepted once the app shuts down")
}

// TestServeStopsWithTheServer: a server that stops serving by itself (its
// listener closed) still shuts the app down, and Serve says why it stopped.
func TestServeStopsWithTheServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	shutdownCalled := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- Serve(t.Context(), &http.Server{Handler: http.NotFoundHandler()}, ln, time.Second,
			func(context.Context) error { close(shutdownCalled); return nil })
	}()
	require.NoError(t, ln.Close())
	err = <-done
	require.Error(t, err)
	assert.ErrorIs(t, err, net.ErrClosed)
	<-shutdownCalled
}
