package resume

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// Serve serves srv on ln until ctx is done, then drains the way an app of
// resume Handlers behind a load balancer must: it stops accepting
// connections first, so that the pages told to reconnect reach another
// instance (a balancer takes a refused connection elsewhere); then it
// calls shutdown, the app's own (each Handler's Shutdown: its WebSockets,
// which http.Server does not see once hijacked, close "going away" and its
// event streams end); and it waits for srv's requests in flight. grace
// bounds the drain. If srv stops serving by itself, Serve calls shutdown
// and returns why. A clean drain returns shutdown's and srv.Shutdown's
// errors (nil when both are).
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration, shutdown func(context.Context) error) error {
	nl := &notifyingListener{Listener: ln, closed: make(chan struct{})}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(nl) }()
	select {
	case err := <-served:
		return errors.Join(err, shutdown(context.Background()))
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	// http.Server.Shutdown closes the listener before anything else, then
	// waits for requests in flight, the event streams among them, which
	// only the app's shutdown ends: run it once the listener is closed.
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Shutdown(sctx) }()
	<-nl.closed
	errApp := shutdown(sctx)
	errHTTP := <-httpDone
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		errHTTP = errors.Join(errHTTP, err)
	}
	return errors.Join(errApp, errHTTP)
}

// notifyingListener closes closed when it is first closed.
type notifyingListener struct {
	net.Listener
	once   sync.Once
	closed chan struct{}
}

func (l *notifyingListener) Close() error {
	err := l.Listener.Close()
	l.once.Do(func() { close(l.closed) })
	return err
}
