package resume

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Defaults applied by New to zero Options fields.
const (
	defaultMaxAge         = time.Hour
	defaultMaxFrameSize   = 64 << 10
	defaultPingInterval   = 25 * time.Second
	defaultWriteTimeout   = 10 * time.Second
	defaultRestoreTimeout = 30 * time.Second

	// minFrameSize leaves room for a store frame with a small sealed state.
	minFrameSize = 1 << 10
	maxKeyLen    = 128
	// maxInstanceLen bounds Options.Instance, which every connection ID
	// carries.
	maxInstanceLen = 64
)

// Options configures a Handler. Only Key is required.
type Options struct {
	// Key names the blob: it is the client's sessionStorage key and the seal
	// purpose (salt), so blobs sealed under another Key do not open here.
	Key string
	// MaxAge is how long a stored blob stays valid (default 1h).
	MaxAge time.Duration
	// OriginPatterns lists extra allowed Origin hosts, with path.Match
	// syntax, as in websocket.AcceptOptions.OriginPatterns. A pattern that
	// contains "://" is matched against scheme://host. Requests without an
	// Origin header and same-origin requests (Origin host equals Host) are
	// always allowed. Same-origin is only as strong as the application's
	// Host validation: under DNS rebinding an attacker's page sends its own
	// name as both Origin and Host, so put the Handler behind
	// [AllowHosts] with the application's own host names.
	OriginPatterns []string
	// Bind, when set, returns the value a blob is bound to for a request
	// (e.g. a session cookie's ID). It is sealed with the state; a blob
	// handed back on a request with another value opens as StatusUnbound.
	// An error rejects the connection with HTTP 403.
	Bind func(*http.Request) (string, error)
	// MaxFrameSize bounds every frame in both directions, in bytes
	// (default 64 KiB, at least 1 KiB).
	MaxFrameSize int
	// PingInterval is how often the server sends a ping frame (default 25s).
	PingInterval time.Duration
	// WriteTimeout bounds each frame write; a client that does not take a
	// frame within it is disconnected (default 10s).
	WriteTimeout time.Duration
	// RestoreTimeout is how long the server waits for the client's
	// "restored" answer before it closes the connection (default 30s).
	RestoreTimeout time.Duration
	// ClientAddr returns the client address of a request that opens a
	// connection, kept as [Conn.ClientAddr] and counted by
	// MaxConnsPerClient. The default is the TCP peer's address. Behind a
	// trusted reverse proxy, use [ClientAddrFrom] with the header the proxy
	// sets (the right-most X-Forwarded-For entry, or Fly-Client-IP on
	// Fly.io); never trust such a header without a proxy that sets it.
	ClientAddr func(r *http.Request) netip.Addr
	// MaxConnsPerClient caps the concurrent connections, WebSockets and
	// fallback streams together, that one client holds on this Handler;
	// 0 (the default) means no cap. Clients are counted by [ClientKey] of
	// their ClientAddr (an IPv4 address, an IPv6 /64), so behind a proxy
	// set ClientAddr, or every client counts as the proxy; clients whose
	// address is invalid share one count. A connection over the cap is
	// refused before it opens, with HTTP 429 and the error frame
	// "too_many_connections" (PROTOCOL.md); the client retries with
	// backoff. A POST B/send belongs to a counted stream and is not
	// counted. A user with a few dozen tabs open should stay under it: the
	// example launcher uses 32.
	MaxConnsPerClient int
	// Instance names this server among the instances behind one load
	// balancer, for instance Fly.io's machine ID (FLY_MACHINE_ID). When set,
	// every connection ID is "<Instance>.<128 random bits>": it tells which
	// instance holds the connection and nothing else. Clients see it. It is
	// 1 to 64 ASCII letters, digits, '-' and '_'.
	Instance string
	// Replay, when set (with Instance), answers a POST B/send that reaches
	// this instance for a fallback connection whose ID names another
	// instance: the stream that POST speaks for is held there. It gets that
	// instance's name, checked to be a valid Instance, and r with its body
	// readable again; it writes the whole answer, typically one that makes
	// the load balancer replay the request on that instance ([FlyReplay] on
	// Fly.io), and reports whether it did.
	// Without Replay, or when it returns false, such a POST is answered 404
	// unknown_conn and the client reconnects. A connection ID naming this
	// instance is never replayed: that stream is gone.
	Replay func(w http.ResponseWriter, r *http.Request, instance string) bool
	// Logger receives connection-level diagnostics; nil discards them. It
	// never receives tokens, states, keys or connection IDs (log lines
	// carry [Conn.Tag]).
	Logger *slog.Logger
}

// withDefaults validates o and returns a copy with defaults filled in.
func (o Options) withDefaults() (Options, error) {
	if err := validKey(o.Key); err != nil {
		return o, err
	}
	for _, p := range o.OriginPatterns {
		if _, err := path.Match(p, ""); err != nil {
			return o, fmt.Errorf("%w: origin pattern %q: %w", ErrInvalidOptions, p, err)
		}
	}
	if o.Instance != "" && !isInstance(o.Instance) {
		return o, fmt.Errorf("%w: Instance must be 1 to %d ASCII letters, digits, '-' or '_'", ErrInvalidOptions, maxInstanceLen)
	}
	if o.Replay != nil && o.Instance == "" {
		return o, fmt.Errorf("%w: Replay needs Instance", ErrInvalidOptions)
	}
	durations := []struct {
		name string
		d    *time.Duration
		def  time.Duration
	}{
		{"MaxAge", &o.MaxAge, defaultMaxAge},
		{"PingInterval", &o.PingInterval, defaultPingInterval},
		{"WriteTimeout", &o.WriteTimeout, defaultWriteTimeout},
		{"RestoreTimeout", &o.RestoreTimeout, defaultRestoreTimeout},
	}
	for _, d := range durations {
		switch {
		case *d.d < 0:
			return o, fmt.Errorf("%w: %s is negative", ErrInvalidOptions, d.name)
		case *d.d == 0:
			*d.d = d.def
		}
	}
	if o.MaxConnsPerClient < 0 {
		return o, fmt.Errorf("%w: MaxConnsPerClient is negative", ErrInvalidOptions)
	}
	switch {
	case o.MaxFrameSize == 0:
		o.MaxFrameSize = defaultMaxFrameSize
	case o.MaxFrameSize < minFrameSize:
		return o, fmt.Errorf("%w: MaxFrameSize %d is below %d", ErrInvalidOptions, o.MaxFrameSize, minFrameSize)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ClientAddr == nil {
		o.ClientAddr = peerAddr
	}
	o.OriginPatterns = append([]string(nil), o.OriginPatterns...)
	return o, nil
}

func validKey(k string) error {
	if k == "" {
		return fmt.Errorf("%w: Key is empty", ErrInvalidOptions)
	}
	if len(k) > maxKeyLen || !utf8.ValidString(k) {
		return fmt.Errorf("%w: Key must be valid UTF-8 of at most %d bytes", ErrInvalidOptions, maxKeyLen)
	}
	for _, r := range k {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: Key contains a control character", ErrInvalidOptions)
		}
	}
	return nil
}

// isInstance reports whether s is a valid instance name: 1 to
// maxInstanceLen ASCII letters, digits, '-' and '_', so that it never holds
// the '.' that ends it in a connection ID, nor anything a header or a log
// line would mind.
func isInstance(s string) bool {
	return s != "" && len(s) <= maxInstanceLen && strings.IndexFunc(s, notInstanceRune) < 0
}

func notInstanceRune(r rune) bool {
	return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_')
}
