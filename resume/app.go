package resume

import (
	"context"
	"encoding/json"
)

// App is the application behind a Handler. Its methods run on a per-connection
// worker goroutine, one call at a time and in frame order, so a slow App
// delays that connection's later actions but never the reading of frames or
// other connections. ctx is canceled when the connection ends.
type App[S any] interface {
	// Open is called once per connection, after the client answered the
	// restore request and the result frame was sent. r.Status tells
	// whether r.State holds the state of an earlier [Conn.Store]; a typical
	// Open re-attaches to the job and sends a snapshot. An error ends the
	// connection with an "internal" error frame.
	Open(ctx context.Context, c *Conn[S], r Result[S]) error
	// Action is called for each client action frame, after Open. The
	// returned error's text becomes the reply frame's "error" (so it must
	// not carry secrets); nil replies ok.
	Action(ctx context.Context, c *Conn[S], name string, data json.RawMessage) error
}

// Checker is implemented by an App that vets a state before it counts as
// resumed. A blob that opens proves only that this server (or one sharing
// its key base) sealed it once; whether acting on it now is right is the
// App's call. A state Check refuses (sealed by an older version, or under a
// configuration that has changed since) is reported to the client as
// "invalid", which clears it, and to Open as StatusInvalid with an Err
// matching seal.ErrInvalid. Check runs before the result frame is sent: it
// must be quick and must not block (no I/O).
type Checker[S any] interface {
	Check(state S) error
}
