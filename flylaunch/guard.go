package flylaunch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LostResponseError reports a 502 or 503 answer to a request that is not
// safe to resend (anything but GET and HEAD). The request may have been
// applied before the gateway failed, so [NewClient]'s transport returns this
// error instead of letting fly-go resend the request blindly (its retrying
// transport resends 502/503 for every method); the Launcher instead checks
// Fly's state and then decides. It matches a retryable failure, unless
// Message shows Fly refused for want of capacity.
type LostResponseError struct {
	// Method and Path identify the request.
	Method, Path string
	// Status is the HTTP status received, 502 or 503.
	Status int
	// RequestID is Fly's request ID, if the response had one.
	RequestID string
	// Message is the "error" text of the answer's JSON body, if any
	// (Fly answers a launch with 503 "no capacity available" too).
	Message string
}

// Error implements error.
func (e *LostResponseError) Error() string {
	s := fmt.Sprintf("%s %s: HTTP %d, not resent (it may have been applied)", e.Method, e.Path, e.Status)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " (fly request id " + e.RequestID + ")"
	}
	return s
}

// maxErrorBody bounds the error body the guard reads.
const maxErrorBody = 64 << 10

// guardTransport turns 502/503 answers to unsafe requests into
// *LostResponseError, and hides the Temporary method of their transport
// errors, so that fly-go's retry layer resends neither. It also passes a
// 429's Retry-After to the retry loop that made the call (retryHint).
//
// It also sends a wait's instance filter under the name Fly's Machines API
// reference gives it, instance_id ("Required when waiting for Machine to
// be in stopped state"): fly-go v0.9.3 can only send it as "version"
// (flaps.WithWaitVersion), so both go.
type guardTransport struct{ next http.RoundTripper }

func (g guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = withInstanceID(req)
	resp, err := g.next.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		hintFrom(req.Context()).set(retryAfter(resp.Header.Get("Retry-After"), time.Now()))
	}
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		return resp, err
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode != http.StatusBadGateway && resp.StatusCode != http.StatusServiceUnavailable {
		return resp, nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	return nil, &LostResponseError{
		Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode,
		RequestID: resp.Header.Get("Fly-Request-Id"), Message: errorMessage(body),
	}
}

// withInstanceID returns req, or a copy whose /wait query also carries its
// "version" as instance_id.
func withInstanceID(req *http.Request) *http.Request {
	if req.Method != http.MethodGet || !strings.HasSuffix(req.URL.Path, "/wait") {
		return req
	}
	q := req.URL.Query()
	if q.Get("version") == "" || q.Get("instance_id") != "" {
		return req
	}
	req = req.Clone(req.Context())
	q.Set("instance_id", q.Get("version"))
	req.URL.RawQuery = q.Encode()
	return req
}

// errorMessage returns the "error" member of a Fly error body, or "".
func errorMessage(body []byte) string {
	var v struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	return strings.TrimSpace(v.Error)
}

// retryAfter parses a Retry-After header (seconds or an HTTP date) into a
// wait, bounded so that a bogus answer cannot park a deploy for hours.
func retryAfter(v string, now time.Time) time.Duration {
	const most = 5 * time.Minute
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		return min(max(time.Duration(n)*time.Second, 0), most)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), most)
	}
	return 0
}

// retryHint carries what a failed call's answer said about when to retry,
// from the transport back to the retry loop, through the call's context.
type retryHint struct {
	mu sync.Mutex
	d  time.Duration
}

type retryHintKey struct{}

func withRetryHint(ctx context.Context, h *retryHint) context.Context {
	return context.WithValue(ctx, retryHintKey{}, h)
}

// hintFrom returns ctx's hint, or a throwaway one.
func hintFrom(ctx context.Context) *retryHint {
	if h, ok := ctx.Value(retryHintKey{}).(*retryHint); ok {
		return h
	}
	return &retryHint{}
}

func (h *retryHint) set(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.d = max(h.d, d)
}

func (h *retryHint) after() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.d
}
