package resume

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
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
	// name as both Origin and Host, so put the Handler behind a check that
	// answers only the application's own host names (see the Handler
	// example).
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
	// connection, kept as [Conn.ClientAddr]. The default is the TCP peer's
	// address. Behind a trusted reverse proxy, return the address the proxy
	// reports (for instance the right-most X-Forwarded-For entry, the one
	// the proxy appended); never trust such a header without a proxy that
	// sets it.
	ClientAddr func(r *http.Request) netip.Addr
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
