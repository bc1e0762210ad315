package resume

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"
)

// maxStreamBody bounds the body of POST B/stream ({"v":1}).
const maxStreamBody = 1 << 10

// sendOverhead is the room a POST B/send body has around its frame.
const sendOverhead = 1 << 10

// sseTransport carries frames as server-sent events on a streaming
// response: one "data:" line per frame.
type sseTransport struct {
	w  http.ResponseWriter
	rc *http.ResponseController

	mu   sync.Mutex
	dead bool // the handler returned: the ResponseWriter is gone
}

func (t *sseTransport) write(ctx context.Context, frame []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dead {
		return ErrClosed
	}
	if d, ok := ctx.Deadline(); ok {
		if err := t.rc.SetWriteDeadline(d); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
	}
	buf := make([]byte, 0, len(frame)+8)
	buf = append(buf, "data: "...)
	buf = append(buf, frame...)
	buf = append(buf, "\n\n"...)
	if _, err := t.w.Write(buf); err != nil {
		return err
	}
	return t.rc.Flush()
}

// close is a no-op: ending the connection cancels its context, which makes
// serveStream return and so ends the response.
func (t *sseTransport) close(closeKind, errorCode) {}

// kill marks the ResponseWriter unusable, waiting for a write in flight.
func (t *sseTransport) kill() {
	t.mu.Lock()
	t.dead = true
	t.mu.Unlock()
}

// serveStream runs one fallback connection: POST B/stream with an optional
// body {"v":1} answers with a text/event-stream of frames.
func (h *Handler[S]) serveStream(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeHTTPError(w, http.StatusMethodNotAllowed, codeBadFrame, "use POST")
		return
	}
	p, ok := h.admit(w, r)
	if !ok {
		return
	}
	defer h.leave(p)
	if pe := readStreamBody(w, r); pe != nil {
		writeHTTPError(w, httpStatus(pe.Code), pe.Code, pe.Message)
		return
	}
	tr := &sseTransport{w: w, rc: http.NewResponseController(w)}
	c := newConn(h, p, tr)
	if !h.register(c) {
		writeHTTPError(w, http.StatusServiceUnavailable, codeInternal, "server shutting down")
		return
	}
	defer h.unregister(c)
	defer c.wait()

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if c.start() == nil {
		select {
		case <-c.ctx.Done():
		case <-r.Context().Done():
		}
	}
	c.end(closeAbort, "", "")
	tr.kill()
	_ = tr.rc.SetWriteDeadline(time.Time{})
}

// readStreamBody checks the optional {"v":1} body of POST B/stream.
func readStreamBody(w http.ResponseWriter, r *http.Request) *protocolError {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxStreamBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return protoErr(codeTooLarge, "stream body exceeds %d bytes", maxStreamBody)
		}
		return protoErr(codeBadFrame, "cannot read body")
	}
	if len(b) == 0 {
		return nil
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(b, &body); err != nil || body == nil {
		return protoErr(codeBadFrame, "stream body is not a JSON object")
	}
	if v, ok := body["v"]; ok && string(v) != "1" {
		return protoErr(codeUnsupportedVersion, "version %s is not supported, want %d", truncate(string(v)), Version)
	}
	return nil
}

// serveSend delivers one client frame to a fallback connection:
// POST B/send with body {"conn":"<id>","frame":{...}}.
func (h *Handler[S]) serveSend(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeHTTPError(w, http.StatusMethodNotAllowed, codeBadFrame, "use POST")
		return
	}
	if !originAllowed(r, h.opts.OriginPatterns) {
		writeHTTPError(w, http.StatusForbidden, codeForbiddenOrigin, "origin not allowed")
		return
	}
	body, pe := readSendBody(w, r, h.opts.MaxFrameSize)
	if pe != nil {
		writeHTTPError(w, httpStatus(pe.Code), pe.Code, pe.Message)
		return
	}
	c := h.lookupStream(body.conn)
	if c == nil {
		if !h.replay(w, r, body) {
			writeHTTPError(w, http.StatusNotFound, codeUnknownConn, "connection not found; reconnect")
		}
		return
	}
	if err := c.receive(body.frame); err != nil {
		if !errors.As(err, &pe) {
			pe = protoErr(codeUnknownConn, "connection closed; reconnect")
		}
		writeHTTPError(w, httpStatus(pe.Code), pe.Code, pe.Message)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// replay hands a POST B/send for a connection this instance does not hold
// to Options.Replay when the connection ID names another instance, with
// the request body readable again; it reports whether Replay answered.
func (h *Handler[S]) replay(w http.ResponseWriter, r *http.Request, body sendBody) bool {
	if h.opts.Replay == nil {
		return false
	}
	instance, ok := instanceOf(body.conn)
	if !ok || instance == h.opts.Instance {
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body.raw))
	r.ContentLength = int64(len(body.raw))
	return h.opts.Replay(w, r, instance)
}

// sendBody is a parsed POST B/send body.
type sendBody struct {
	conn  string // the connection ID
	frame []byte // the client frame, not decoded yet
	raw   []byte // the whole body as received
}

// readSendBody parses {"conn":"<id>","frame":{...}}.
func readSendBody(w http.ResponseWriter, r *http.Request, maxFrame int) (sendBody, *protocolError) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(maxFrame+sendOverhead)))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return sendBody{}, protoErr(codeTooLarge, "body exceeds %d bytes", maxFrame+sendOverhead)
		}
		return sendBody{}, protoErr(codeBadFrame, "cannot read body")
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(b, &body); err != nil || body == nil {
		return sendBody{}, protoErr(codeBadFrame, "body is not a JSON object")
	}
	id, err := stringField(body, "conn")
	if err != nil {
		var pe *protocolError
		errors.As(err, &pe)
		return sendBody{}, pe
	}
	frame, ok := body["frame"]
	if !ok {
		return sendBody{}, protoErr(codeBadFrame, "missing field %q", "frame")
	}
	return sendBody{conn: id, frame: frame, raw: b}, nil
}

// httpStatus is the HTTP status of a plain-HTTP error answer.
func httpStatus(code errorCode) int {
	switch code {
	case codeTooLarge:
		return http.StatusRequestEntityTooLarge
	case codeUnknownConn:
		return http.StatusNotFound
	case codeForbiddenOrigin:
		return http.StatusForbidden
	case codeTooManyConnections:
		return http.StatusTooManyRequests
	case codeInternal:
		return http.StatusInternalServerError
	default:
		return http.StatusBadRequest
	}
}
