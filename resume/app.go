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
