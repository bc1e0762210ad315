package flysim

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault is an injected misbehaviour for matching requests.
type Fault struct {
	// Method and Path select requests by route pattern as registered on a
	// Go 1.22 ServeMux, e.g. Method "POST", Path "/v1/apps/{app}/machines".
	// "" matches any.
	Method, Path string
	// Status is the status to answer instead (e.g. 408, 429, 500, 504),
	// with a Fly-shaped error body; 0 means no status fault (latency only).
	Status int
	// Rate is the probability (0..1) that a matching request is hit. With
	// Count, at most Count matches are hit. Rate 0 means every match.
	Rate float64
	// Count > 0 limits the fault to the next Count hits; 0 is unlimited.
	Count int
	// Latency is added before answering.
	Latency time.Duration
	// CommitThenFail performs the request's effect, then answers Status
	// (500 if Status is 0): the ambiguous "did my create happen?" failure.
	CommitThenFail bool
	// Message replaces the "error" text of the answer's body; "" keeps
	// the default for Status.
	Message string
	// Code sets the body's "status" field, Fly's machine-readable error
	// code (e.g. "insufficient_capacity", "name_taken"); "" leaves it out.
	Code string
	// RetryAfter sets the Retry-After header, in whole seconds rounded up
	// (a 429 without it says 1 second). It is wall time: the client
	// waits it as it is.
	RetryAfter time.Duration
}

type faultState struct {
	Fault
	left int // remaining hits when Count > 0
}

// AddFault injects f; faults are checked in the order added and the first
// that hits a request applies.
func (s *Server) AddFault(f Fault) {
	if f.CommitThenFail && f.Status == 0 {
		f.Status = http.StatusInternalServerError
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultState{Fault: f, left: f.Count})
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// pickFault returns the fault hitting r (matched by pattern), if any.
func (s *Server) pickFault(r *http.Request) (Fault, bool) {
	method, path, ok := strings.Cut(r.Pattern, " ")
	if !ok {
		method, path = "", r.Pattern
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Method != "" && !strings.EqualFold(f.Method, method) && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		if f.Path != "" && f.Path != path {
			continue
		}
		if f.Count > 0 && f.left <= 0 {
			continue
		}
		if f.Rate > 0 && s.rng.Float64() >= f.Rate {
			continue
		}
		if f.Count > 0 {
			f.left--
			if f.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return f.Fault, true
	}
	return Fault{}, false
}

// serveWithFaults runs h under whatever fault hits r.
func (s *Server) serveWithFaults(w http.ResponseWriter, r *http.Request, h http.HandlerFunc) {
	f, ok := s.pickFault(r)
	if !ok {
		h(w, r)
		return
	}
	if err := s.sleep(r.Context(), f.Latency); err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable: "+err.Error())
		return
	}
	switch {
	case f.Status == 0:
		h(w, r)
	case f.CommitThenFail:
		h(&discardWriter{h: http.Header{}}, r)
		writeFault(w, f)
	default:
		writeFault(w, f)
	}
}

// writeFault answers f in Fly's shape: {"error": ...[, "status": ...]},
// with Retry-After on a 429 or when f sets one.
func writeFault(w http.ResponseWriter, f Fault) {
	msg := strings.ToLower(http.StatusText(f.Status))
	switch f.Status {
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		msg = "deadline_exceeded: " + msg
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "1")
		msg = "rate limit exceeded"
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(f.RetryAfter.Seconds())), 10))
	}
	if f.Message != "" {
		msg = f.Message
	}
	if msg == "" {
		msg = "injected fault"
	}
	writeJSON(w, f.Status, apiError{Error: msg, Status: f.Code})
}
