package flysim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

// apiError is Fly's error body, as flaps' handleAPIError and
// FlapsError.StatusCode decode it.
type apiError struct {
	Error  string `json:"error"`
	Status string `json:"status,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal: encode response")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Error: msg})
}

func writeOK(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// decodeJSON decodes a request body into v, answering 400 and returning
// false on malformed input.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := readBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid request body")
		return false
	}
	if len(bytes.TrimSpace(b)) == 0 {
		writeError(w, http.StatusBadRequest, "request body is required")
		return false
	}
	if err := json.Unmarshal(b, v); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid JSON body: %v", err))
		return false
	}
	return true
}

// statusRecorder remembers the status written, for logging.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection's writer (to
// flush a held response).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// discardWriter swallows a response, for CommitThenFail faults.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}
