package flylaunch

import (
	"fmt"
	"io"
	"net/http"
)

// LostResponseError reports a 502 or 503 answer to a request that is not
// safe to resend (anything but GET and HEAD). The request may have been
// applied before the gateway failed, so [NewClient]'s transport returns this
// error instead of letting fly-go resend the request blindly (its retrying
// transport resends 502/503 for every method); the Launcher instead checks
// Fly's state and then decides. It matches a retryable failure.
type LostResponseError struct {
	// Method and Path identify the request.
	Method, Path string
	// Status is the HTTP status received, 502 or 503.
	Status int
	// RequestID is Fly's request ID, if the response had one.
	RequestID string
}

// Error implements error.
func (e *LostResponseError) Error() string {
	s := fmt.Sprintf("%s %s: HTTP %d, not resent (it may have been applied)", e.Method, e.Path, e.Status)
	if e.RequestID != "" {
		s += " (fly request id " + e.RequestID + ")"
	}
	return s
}

// guardTransport turns 502/503 answers to unsafe requests into
// *LostResponseError, and hides the Temporary method of their transport
// errors, so that fly-go's retry layer resends neither.
type guardTransport struct{ next http.RoundTripper }

func (g guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := g.next.RoundTrip(req)
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		return resp, err
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode != http.StatusBadGateway && resp.StatusCode != http.StatusServiceUnavailable {
		return resp, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return nil, &LostResponseError{
		Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode,
		RequestID: resp.Header.Get("Fly-Request-Id"),
	}
}
