package resume

import "context"

// closeKind says how a connection ends.
type closeKind int

const (
	// closeAbort: the transport failed or the client left; no handshake.
	closeAbort closeKind = iota
	// closeNormal: the server ended an orderly connection.
	closeNormal
	// closeGoingAway: the handler is shutting down; clients reconnect.
	closeGoingAway
	// closeProtocol: an error frame was sent; the code says why.
	closeProtocol
)

// transport carries encoded frames to one client. The connection core
// serializes write calls and calls close exactly once.
type transport interface {
	// write sends one frame, giving up when ctx is done.
	write(ctx context.Context, frame []byte) error
	// close ends the transport; code is set for closeProtocol.
	close(kind closeKind, code errorCode)
}
