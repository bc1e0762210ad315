package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/sealkit/sealkit/seal"
)

// shutdownTimeout bounds a graceful stop. Fly's kill_timeout in
// deploy/fly.toml leaves the process a few seconds more before SIGKILL
// (TestFlyTomlMatchesTheLauncher).
const shutdownTimeout = 10 * time.Second

// httpLimits are the per-connection bounds of the HTTP server.
type httpLimits struct {
	readHeader, read, idle time.Duration
	maxHeaderBytes         int
}

// defaultHTTPLimits are the launcher's HTTP server bounds. Every request
// the launcher takes is small: a page load, a POST B/stream of at most
// 1 KiB, a POST B/send of at most 65 KiB, a simulator API call.
//
//   - readHeader 10 s: a browser sends its headers in one go.
//   - read 30 s for the whole request, body included: 65 KiB at about
//     2 KB/s, a very poor mobile link, still fits; a drip-fed body is cut
//     then. It does not end long-lived requests: net/http clears the read
//     deadline when it hijacks a WebSocket and when it starts its
//     background read after a request body is consumed, which a streaming
//     POST B/stream has done (TestLongLivedConnectionsOutliveReadTimeout).
//   - idle 60 s between keep-alive requests: a page reuses its connection
//     for the fallback's POSTs and asset loads; an idle one is closed.
//   - maxHeaderBytes 32 KiB instead of net/http's 1 MiB: the launcher
//     sets no cookie, but on a subdomain it is sent its parent domain's
//     cookies (browsers allow 4 KiB each); Node.js stops at 16 KiB.
//
// There is no write timeout: it would end the event streams, and resume
// bounds each frame write itself (resume.Options.WriteTimeout).
func defaultHTTPLimits() httpLimits {
	return httpLimits{readHeader: 10 * time.Second, read: 30 * time.Second, idle: 60 * time.Second, maxHeaderBytes: 32 << 10}
}

// newHTTPServer returns the launcher's http.Server for h with limits l.
func newHTTPServer(h http.Handler, l httpLimits, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.readHeader,
		ReadTimeout:       l.read,
		IdleTimeout:       l.idle,
		MaxHeaderBytes:    l.maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// listenError explains a failed listen; a port in use is most often an
// earlier launcher still running: killing `go run` does not kill the
// program it started.
func listenError(addr string, err error) error {
	if !errors.Is(err, syscall.EADDRINUSE) {
		return err
	}
	return fmt.Errorf("%w: another process holds %s, most likely an earlier launcher "+
		"(stopping `go run` with kill -9 leaves the launcher it started running: "+
		"stop that process, or run the built binary, or pick another -addr)", err, addr)
}

// run is the whole launcher: it parses args and the environment, serves
// until ctx is done, and shuts down gracefully. It prints the URL it serves
// and its logs to stdout.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	c, err := parseConfig(args, getenv, stdout)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))

	kb, generated, err := loadKeyBases(getenv, c.dataDir)
	if err != nil {
		return err
	}
	if generated {
		log.Info("generated a key base; set SECRET_KEY_BASE to share it between instances", "file", c.dataDir+"/"+keyBaseFile)
	}
	sealer, err := seal.New(kb.current, seal.PreviousKeyBases(kb.previous...))
	if err != nil {
		return fmt.Errorf("key base: %w", err)
	}

	f, err := newFly(ctx, c, log)
	if err != nil {
		return err
	}
	srv, err := newServer(serverOptions{
		sealer: sealer, fly: f, org: c.flyOrg, clients: c.clients, machine: c.flyMachineID, origins: c.origins,
		addr: c.addr, allowedHosts: c.allowedHosts, maxConnsPerClient: c.maxConnsPerClient, logger: log,
	})
	if err != nil {
		return errors.Join(err, f.close())
	}

	l, err := net.Listen("tcp", c.addr)
	if err != nil {
		return errors.Join(listenError(c.addr, err), stop(context.Background(), srv, f))
	}
	ln := &notifyingListener{Listener: l, closed: make(chan struct{})}
	hs := newHTTPServer(srv, defaultHTTPLimits(), log)
	url := servingURL(ln.Addr())
	fmt.Fprintf(stdout, "sealkit launcher serving %s (%s, data in %s)\n", url, f.mode, c.dataDir)

	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return errors.Join(err, stop(context.Background(), srv, f))
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	// Drain: stop accepting connections first, so that the pages told to
	// reconnect below reach another instance (a load balancer takes a
	// refused connection elsewhere); then close the page connections with
	// "going away". http.Server.Shutdown, which closes the listener before
	// anything else, waits for requests in flight, the event streams among
	// them, which stop ends (WebSockets are hijacked: it never sees them).
	httpDone := make(chan error, 1)
	go func() { httpDone <- hs.Shutdown(sctx) }()
	<-ln.closed
	errStop := stop(sctx, srv, f)
	errHTTP := <-httpDone
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		errHTTP = errors.Join(errHTTP, err)
	}
	return errors.Join(errStop, errHTTP)
}

// stop ends the page connections, then this process's deploy drivers (the
// deploys go on at Fly and resume wherever their pages reconnect), then
// waits for the launcher's goroutines.
func stop(ctx context.Context, srv *server, f *fly) error {
	err := srv.shutdown(ctx)
	err = errors.Join(err, f.close())
	srv.app.wait()
	return err
}

// notifyingListener closes closed when it is first closed: run waits for
// that to know http.Server.Shutdown has stopped accepting connections.
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

// servingURL is the URL to open for a listener: a wildcard address (":8080")
// is reachable at localhost.
func servingURL(addr net.Addr) string {
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		return "http://" + net.JoinHostPort("localhost", strconv.Itoa(tcp.Port)) + "/"
	}
	return "http://" + addr.String() + "/"
}
