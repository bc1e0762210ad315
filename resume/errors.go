package resume

import (
	"errors"
	"fmt"
)

// Sentinel errors returned by this package; test them with errors.Is.
var (
	// ErrClosed is returned by the Conn send methods once the connection
	// has ended (or ends during the send).
	ErrClosed = errors.New("resume: connection closed")
	// ErrFrameTooLarge is returned when an outgoing frame would exceed
	// Options.MaxFrameSize.
	ErrFrameTooLarge = errors.New("resume: frame too large")
	// ErrStaleSeq is returned by Conn.Event, which then sends nothing, when
	// the event's seq is not above the seq of the last snapshot or event
	// sent on the connection: the client would drop it.
	ErrStaleSeq = errors.New("resume: event seq not above the last one sent")
	// ErrUnbound is the Result.Err of StatusUnbound: the blob was sealed for
	// another binding value.
	ErrUnbound = errors.New("resume: blob bound to another session")
	// ErrInvalidOptions is wrapped by every error New returns for bad
	// Options, and NewRateLimiter for bad arguments.
	ErrInvalidOptions = errors.New("resume: invalid options")
	// ErrShutdown is returned by Handler.Shutdown when it is called twice.
	ErrShutdown = errors.New("resume: handler shut down")
	// ErrInvalidHost is wrapped by every error AllowHosts and ListenHosts
	// return for a host or listen address they cannot use.
	ErrInvalidHost = errors.New("resume: invalid host")
)

// errorCode is the code of an "error" frame.
type errorCode string

// The error codes of protocol v1. An error frame is always followed by the
// server closing the connection.
const (
	// codeBadFrame: malformed JSON, a missing or mistyped field, an unknown
	// frame type, or a frame out of order.
	codeBadFrame errorCode = "bad_frame"
	// codeTooLarge: a frame larger than the server's max frame size.
	codeTooLarge errorCode = "too_large"
	// codeUnsupportedVersion: the client speaks another protocol version.
	codeUnsupportedVersion errorCode = "unsupported_version"
	// codeUnknownConn: a POST to /send named a connection this server
	// instance does not hold (e.g. after a restart); the client reconnects.
	codeUnknownConn errorCode = "unknown_conn"
	// codeForbiddenOrigin: the request's Origin is not allowed.
	codeForbiddenOrigin errorCode = "forbidden_origin"
	// codeTooManyConnections: the client already holds
	// Options.MaxConnsPerClient connections.
	codeTooManyConnections errorCode = "too_many_connections"
	// codeInternal: the server failed (e.g. App.Open returned an error).
	codeInternal errorCode = "internal"
)

// protocolError is a protocol violation found in a client frame or request.
// Its Code is what the server sends in the error frame.
type protocolError struct {
	Code    errorCode
	Message string
}

// Error implements error.
func (e *protocolError) Error() string {
	return fmt.Sprintf("resume: %s: %s", e.Code, e.Message)
}

func protoErr(code errorCode, format string, args ...any) *protocolError {
	return &protocolError{Code: code, Message: fmt.Sprintf(format, args...)}
}
