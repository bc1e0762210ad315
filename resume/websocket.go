package resume

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/coder/websocket"
)

// wsTransport carries frames as WebSocket text messages.
type wsTransport struct {
	ws *websocket.Conn
}

func (t wsTransport) write(ctx context.Context, frame []byte) error {
	return t.ws.Write(ctx, websocket.MessageText, frame)
}

func (t wsTransport) close(kind closeKind, code errorCode) {
	switch kind {
	case closeAbort:
		_ = t.ws.CloseNow()
	case closeNormal:
		_ = t.ws.Close(websocket.StatusNormalClosure, "")
	case closeGoingAway:
		_ = t.ws.Close(websocket.StatusGoingAway, "server shutting down")
	case closeProtocol:
		_ = t.ws.Close(wsStatus(code), string(code))
	}
}

// wsStatus maps an error code to the WebSocket close status sent with it.
func wsStatus(code errorCode) websocket.StatusCode {
	switch code {
	case codeTooLarge:
		return websocket.StatusMessageTooBig
	case codeInternal:
		return websocket.StatusInternalError
	default:
		return websocket.StatusPolicyViolation
	}
}

// serveWebSocket runs one WebSocket connection on the request goroutine,
// which reads frames until the connection ends.
func (h *Handler[S]) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	p, ok := h.admit(w, r)
	if !ok {
		return
	}
	defer h.leave(p)
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:   []string{Subprotocol},
		OriginPatterns: h.opts.OriginPatterns,
	})
	if err != nil {
		h.opts.Logger.Debug("resume: websocket accept failed", "err", err)
		return // Accept has answered the request
	}
	// One byte over the limit lets readFrame see an oversize frame and
	// answer too_large before the library closes the connection.
	ws.SetReadLimit(int64(h.opts.MaxFrameSize) + 1)
	if ws.Subprotocol() != Subprotocol {
		ctx, cancel := context.WithTimeout(r.Context(), h.opts.WriteTimeout)
		defer cancel()
		_ = ws.Write(ctx, websocket.MessageText, encodeError(codeUnsupportedVersion, "subprotocol "+Subprotocol+" required"))
		_ = ws.Close(websocket.StatusPolicyViolation, string(codeUnsupportedVersion))
		return
	}
	c := newConn(h, p, wsTransport{ws: ws})
	if !h.register(c) {
		_ = ws.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	defer h.unregister(c)
	defer c.wait()
	if c.start() == nil {
		h.readWebSocket(c, ws)
	}
	c.end(closeAbort, "", "")
}

// readWebSocket feeds frames to c until the connection fails or ends.
func (h *Handler[S]) readWebSocket(c *Conn[S], ws *websocket.Conn) {
	for {
		typ, rd, err := ws.Reader(context.Background())
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			_ = c.fail(protoErr(codeBadFrame, "binary message"))
			return
		}
		b, err := io.ReadAll(io.LimitReader(rd, int64(h.opts.MaxFrameSize)+1))
		if err != nil {
			if errors.Is(err, websocket.ErrMessageTooBig) {
				_ = c.fail(protoErr(codeTooLarge, "frame exceeds %d bytes", h.opts.MaxFrameSize))
			}
			return
		}
		if c.receive(b) != nil {
			return
		}
	}
}
