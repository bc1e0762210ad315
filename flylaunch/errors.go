package flylaunch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/superfly/fly-go/flaps"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrNameTaken: the app name belongs to someone else.
	ErrNameTaken = errors.New("flylaunch: app name is taken")
	// ErrNoCapacity: Fly has no room for the machine in the region, in any
	// of the ways it says so (insufficient_capacity, insufficient memory or
	// resources, over the org's quota, "no capacity" on a 503).
	ErrNoCapacity = errors.New("flylaunch: no capacity in region")
	// ErrStartTimeout: the machine did not start and pass its health checks
	// within [Options.StartDeadline].
	ErrStartTimeout = errors.New("flylaunch: machine not healthy before the start deadline")
	// ErrNotReachable: the machine passed its health checks, but the
	// Livebook did not answer at its public URL ([Options.Public]) within
	// [Options.StartDeadline].
	ErrNotReachable = errors.New("flylaunch: Livebook did not answer at its public URL before the start deadline")
	// ErrRecordMismatch: a Record does not belong to the Spec it was resumed
	// with.
	ErrRecordMismatch = errors.New("flylaunch: record does not match spec")
	// ErrInvalidOptions: [New] was given Options it cannot work with.
	ErrInvalidOptions = errors.New("flylaunch: invalid options")
	// ErrNoClient: the Launcher was made without Options.Client; use one
	// from [Launcher.As].
	ErrNoClient = errors.New("flylaunch: launcher has no client of its own")
	// ErrClosed: the Launcher is closed.
	ErrClosed = errors.New("flylaunch: launcher closed")
	// ErrCanceled: the deploy was cancelled with [Deploy.Cancel] or by
	// [Launcher.Close]. It also matches context.Canceled.
	ErrCanceled = errors.New("flylaunch: deploy canceled")
	// ErrGone: a resumed deploy's app or machine, which its record says
	// exists (or, before the first step, is being created), is not there:
	// deleted since, or never made by a process that died at once. Nothing
	// is re-created.
	ErrGone = errors.New("flylaunch: the launch's app or machine no longer exists")
	// ErrMachineFailed: Fly reported the machine failed or launch_failed,
	// or it kept exiting; the error says what Fly reported.
	ErrMachineFailed = errors.New("flylaunch: machine failed")
	// ErrAppKept: [Livebook.Delete] removed the launch's machines and volume but left
	// the app, because the record does not prove this launch created it or
	// because machines of others live in it. The error says which.
	ErrAppKept = errors.New("flylaunch: app kept")
	// ErrInUse: [Livebook.Abandon] refused to clean up a launch that is
	// alive somewhere: a machine of it runs or ran, a deploy of it runs
	// here, or Fly's state of it changed while Abandon watched. The error
	// says which.
	ErrInUse = errors.New("flylaunch: the launch is in use")
)

// APIError is a failed Machines API call after any retries.
type APIError struct {
	// Step is the deploy step that made the call; "" for a call made by
	// a [Livebook] method (Status, Stop, Start, Delete, Abandon).
	Step Step
	// Op names the call, e.g. "create app".
	Op string
	// Status is the HTTP status code, 0 for a transport error.
	Status int
	// RequestID is Fly's request ID (the fly-request-id header), if any.
	RequestID string
	// Attempts is how many times the call was tried.
	Attempts int
	// Err is the underlying error, usually a *flaps.FlapsError.
	Err  error
	kind error // ErrNameTaken, ErrNoCapacity or nil
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("flylaunch: ")
	b.WriteString(e.Op)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.kind != nil {
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.kind.Error(), "flylaunch: "))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.RequestID != "" {
		b.WriteString(" (fly request id ")
		b.WriteString(e.RequestID)
		b.WriteString(")")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	return b.String()
}

// Unwrap returns the sentinel kind (if any) and the underlying error.
func (e *APIError) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.kind, e.Err} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// newAPIError wraps err from call op, extracting Fly's status and request ID.
func newAPIError(step Step, op string, attempts int, err error) *APIError {
	e := &APIError{Step: step, Op: op, Attempts: attempts, Err: err}
	var le *LostResponseError
	if errors.As(err, &le) {
		e.Status, e.RequestID = le.Status, le.RequestID
		if capacityText(le.Message) {
			e.kind = ErrNoCapacity
		}
	}
	var fe *flaps.FlapsError
	if errors.As(err, &fe) {
		e.Status = fe.ResponseStatusCode
		e.RequestID = fe.FlyRequestId
		if noCapacity(fe) {
			e.kind = ErrNoCapacity
		}
	}
	return e
}

// statusOf returns the HTTP status of a flaps error or lost response, 0
// otherwise.
func statusOf(err error) int {
	var fe *flaps.FlapsError
	if errors.As(err, &fe) {
		return fe.ResponseStatusCode
	}
	var le *LostResponseError
	if errors.As(err, &le) {
		return le.Status
	}
	return 0
}

// noCapacity reports whether fe is one of Fly's answers for a region
// without room for the machine: the insufficient_capacity status code, or
// the texts of 409 "insufficient memory", 412 "insufficient resources",
// 403 "over the allowed quota" and 502/503 "no capacity".
func noCapacity(fe *flaps.FlapsError) bool {
	if sc := fe.StatusCode(); sc != nil && *sc == "insufficient_capacity" {
		return true
	}
	return capacityText(string(fe.ResponseBody))
}

// capacityText reports whether an error text says Fly has no room.
func capacityText(s string) bool {
	s = strings.ToLower(s)
	for _, t := range []string{"insufficient_capacity", "insufficient memory", "insufficient resources", "insufficient cpus", "over the allowed quota", "no capacity"} {
		if strings.Contains(s, t) {
			return true
		}
	}
	return false
}

// retryable reports whether a failed call may succeed if tried again: 408,
// 429, 500, 502, 503, 504 responses (fly-go already retried 502/503 a few
// times, but a storm can outlast it), per-call timeouts and connection
// errors. ctx is the caller's context: once it is done nothing is retried.
func retryable(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	switch statusOf(err) {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case 0:
	default:
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) { // the per-call timeout, ctx is alive
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "connection reset")
}

// canceledError is the error a deploy ends with when its context is done.
type canceledError struct{ cause error }

func (e canceledError) Error() string { return ErrCanceled.Error() }

func (e canceledError) Unwrap() []error { return []error{ErrCanceled, e.cause} }

func requestID(err error) string {
	var fe *flaps.FlapsError
	if errors.As(err, &fe) {
		return fe.FlyRequestId
	}
	var le *LostResponseError
	if errors.As(err, &le) {
		return le.RequestID
	}
	return ""
}
