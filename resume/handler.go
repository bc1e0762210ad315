package resume

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"

	"github.com/sealkit/sealkit/seal"
)

// Handler serves the resume protocol at a base URL B: the WebSocket
// transport at B and the fallback at B/stream and B/send. Mount it at B
// (it routes on the path suffix, so http.StripPrefix is optional):
//
//	mux.Handle("/resume", h)
//	mux.Handle("/resume/", h)
//
// A Handler keeps per-connection state in memory only; everything a client
// needs to resume lives in its sealed blob, so any instance sharing the key
// base resumes any client.
type Handler[S any] struct {
	sealer  *seal.Sealer
	app     App[S]
	opts    Options
	connCap *connCap // nil without Options.MaxConnsPerClient

	mu       sync.Mutex
	conns    map[string]*Conn[S]
	shutdown bool
	wg       sync.WaitGroup // one per registered connection
}

// New returns a Handler that seals states of type S with sealer and hands
// connections to app. It validates opts eagerly; errors wrap ErrInvalidOptions.
func New[S any](sealer *seal.Sealer, app App[S], opts Options) (*Handler[S], error) {
	if sealer == nil {
		return nil, fmt.Errorf("%w: nil sealer", ErrInvalidOptions)
	}
	if app == nil {
		return nil, fmt.Errorf("%w: nil app", ErrInvalidOptions)
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Handler[S]{sealer: sealer, app: app, opts: o, connCap: newConnCap(o.MaxConnsPerClient), conns: make(map[string]*Conn[S])}, nil
}

// ServeHTTP serves GET B (WebSocket), POST B/stream and POST B/send.
func (h *Handler[S]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case strings.HasSuffix(p, "/stream"):
		h.serveStream(w, r)
	case strings.HasSuffix(p, "/send"):
		h.serveSend(w, r)
	default:
		h.serveWebSocket(w, r)
	}
}

// Shutdown ends every connection (clients see a normal "going away" close
// and reconnect, typically to the restarted server), refuses new ones with
// 503, and waits until every connection goroutine, including App calls in
// flight, has returned or ctx is done.
func (h *Handler[S]) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	if h.shutdown {
		h.mu.Unlock()
		return ErrShutdown
	}
	h.shutdown = true
	conns := make([]*Conn[S], 0, len(h.conns))
	for _, c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()

	var ending sync.WaitGroup
	for _, c := range conns {
		ending.Go(func() { c.end(closeGoingAway, "", "") })
	}
	done := make(chan struct{})
	go func() {
		ending.Wait()
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("resume: shutdown: %w", ctx.Err())
	}
}

// register adds c to the live connections; false once shut down.
func (h *Handler[S]) register(c *Conn[S]) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.shutdown {
		return false
	}
	h.conns[c.id] = c
	h.wg.Add(1)
	return true
}

// unregister removes c after its goroutines have returned.
func (h *Handler[S]) unregister(c *Conn[S]) {
	h.mu.Lock()
	delete(h.conns, c.id)
	h.mu.Unlock()
	h.wg.Done()
}

// lookupStream returns the fallback connection with the given id, or nil.
// A WebSocket connection is never returned: its frames come only over its
// own socket, so knowing its ID grants nothing.
func (h *Handler[S]) lookupStream(id string) *Conn[S] {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c := h.conns[id]; c != nil && c.stream {
		return c
	}
	return nil
}

// peer is what a connection keeps of the request that opened it.
type peer struct {
	bind   string
	client netip.Addr
	host   string
}

// admit runs the checks every transport shares: not shut down, Origin,
// binding and the client's connection cap. It answers the request itself
// and returns ok=false on failure; on success the caller must call
// h.leave(p) once the connection has ended.
func (h *Handler[S]) admit(w http.ResponseWriter, r *http.Request) (peer, bool) {
	h.mu.Lock()
	down := h.shutdown
	h.mu.Unlock()
	if down {
		writeHTTPError(w, http.StatusServiceUnavailable, codeInternal, "server shutting down")
		return peer{}, false
	}
	if !originAllowed(r, h.opts.OriginPatterns) {
		writeHTTPError(w, http.StatusForbidden, codeForbiddenOrigin, "origin not allowed")
		return peer{}, false
	}
	p := peer{client: h.opts.ClientAddr(r), host: r.Host}
	if h.opts.Bind != nil {
		bind, err := h.opts.Bind(r)
		if err != nil {
			h.opts.Logger.Info("resume: binding refused", "err", err)
			writeHTTPError(w, http.StatusForbidden, codeForbiddenOrigin, "request cannot be bound")
			return peer{}, false
		}
		p.bind = bind
	}
	if !h.connCap.acquire(ClientKey(p.client)) {
		h.opts.Logger.Debug("resume: too many connections", "client", p.client)
		writeHTTPError(w, http.StatusTooManyRequests, codeTooManyConnections, "too many open connections from this client; retry later")
		return peer{}, false
	}
	return p, true
}

// leave ends what admit began for p.
func (h *Handler[S]) leave(p peer) { h.connCap.release(ClientKey(p.client)) }

// writeHTTPError answers a plain HTTP request with an error frame body.
func writeHTTPError(w http.ResponseWriter, status int, code errorCode, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(encodeError(code, msg))
}

// idRandomLen is the length of the random part of a connection id: 128
// bits, base64url-encoded.
const idRandomLen = 22

// newID returns an unguessable connection id: on the fallback transport it
// is the capability that lets a POST to B/send speak for the connection.
// With an instance name it is "<instance>.<random>", which reveals the
// instance and nothing else.
func newID(instance string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	id := base64.RawURLEncoding.EncodeToString(b[:])
	if instance == "" {
		return id
	}
	return instance + "." + id
}

// instanceOf returns the instance a connection id names, and false when the
// id does not have the shape newID gives it with an instance name.
func instanceOf(id string) (string, bool) {
	instance, random, ok := strings.Cut(id, ".")
	if !ok || !isInstance(instance) || len(random) != idRandomLen {
		return "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(random); err != nil {
		return "", false
	}
	return instance, true
}

// tagOf returns the log tag of a connection id: 48 bits of its SHA-256,
// enough to correlate log lines, useless to recover the id.
func tagOf(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:6])
}
