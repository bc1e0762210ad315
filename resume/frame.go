package resume

import (
	"encoding/json"
)

// Version is the resume protocol version this package speaks.
const Version = 1

// Subprotocol is the WebSocket subprotocol of protocol v1.
const Subprotocol = "sealkit.resume.v1"

// Server→client frames of protocol v1; see PROTOCOL.md. Each is encoded as
// one JSON object with the frame type in "t".

type welcomeFrame struct {
	T    string `json:"t"`
	V    int    `json:"v"`
	Conn string `json:"conn"`
}

type restoreFrame struct {
	T   string `json:"t"`
	Key string `json:"key"`
}

type resultFrame struct {
	T       string `json:"t"`
	Status  Status `json:"status"`
	Message string `json:"message"`
}

type storeFrame struct {
	T    string `json:"t"`
	Key  string `json:"key"`
	Data string `json:"data"`
}

type clearFrame struct {
	T   string `json:"t"`
	Key string `json:"key"`
}

type seqFrame struct {
	T    string          `json:"t"`
	Seq  uint64          `json:"seq"`
	Data json.RawMessage `json:"data"`
}

type replyFrame struct {
	T     string `json:"t"`
	ID    string `json:"id"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

type errorFrame struct {
	T       string    `json:"t"`
	Code    errorCode `json:"code"`
	Message string    `json:"message"`
}

// pingFrame is constant: it is sent often and never changes.
var pingFrame = []byte(`{"t":"ping"}`)

func encodeError(code errorCode, msg string) []byte {
	b, _ := json.Marshal(errorFrame{T: "error", Code: code, Message: msg}) // strings only: cannot fail
	return b
}

// resultMessages are the human-readable messages of the result frame.
var resultMessages = map[Status]string{
	StatusFresh:   "no stored state",
	StatusResumed: "state resumed",
	StatusExpired: "stored state expired",
	StatusInvalid: "stored state is invalid",
	StatusUnbound: "stored state belongs to another session",
}
