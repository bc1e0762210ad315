package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"sync"
)

// defaultMaxConnsPerClient is the default cap on one client's concurrent
// resume connections: a user with a few dozen tabs open stays under it.
const defaultMaxConnsPerClient = 32

// codeTooManyConnections is the error code of the 429 answer to a client
// over its connection cap, in the shape of resume's error frames.
const codeTooManyConnections = "too_many_connections"

// connLimit caps the concurrent resume connections (WebSockets and
// fallback event streams) of each client, counted by clientKey: one
// address cannot hold thousands of connections open.
type connLimit struct {
	max     int
	clients clientSource

	mu   sync.Mutex
	open map[netip.Prefix]int // only keys with open connections
}

// newConnLimit returns a cap of max connections per client, found as
// clientAddr does with clients.
func newConnLimit(max int, clients clientSource) (*connLimit, error) {
	if max < 1 {
		return nil, errors.New("connection limit: max must be positive")
	}
	return &connLimit{max: max, clients: clients, open: map[netip.Prefix]int{}}, nil
}

// wrap counts the connections next (the resume handler) serves. A request
// over the cap is answered 429 with an error frame body. POSTs to B/send
// are short requests of a connection already counted, so they pass.
func (l *connLimit) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), "/send") {
			next.ServeHTTP(w, r)
			return
		}
		key := clientKey(clientAddr(r, l.clients))
		if !l.acquire(key) {
			writeTooManyConnections(w)
			return
		}
		defer l.release(key)
		next.ServeHTTP(w, r) // returns when the connection ends
	})
}

func (l *connLimit) acquire(key netip.Prefix) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key] >= l.max {
		return false
	}
	l.open[key]++
	return true
}

func (l *connLimit) release(key netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
	}
}

// writeTooManyConnections answers 429 with a body shaped like resume's
// error frames ({"t":"error","code":...,"message":...}).
func writeTooManyConnections(w http.ResponseWriter) {
	body, _ := json.Marshal(struct {
		T       string `json:"t"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}{"error", codeTooManyConnections, "too many open connections from this address"}) // strings only: cannot fail
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write(body)
}
