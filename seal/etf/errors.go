package etf

import "errors"

// Sentinel errors. Every error returned by this package wraps exactly one of
// them (test with errors.Is) and adds the detail: offset, tag or Go type.
var (
	// ErrSyntax reports malformed input: truncated, trailing bytes, invalid
	// lengths, duplicate map keys, non-finite floats, invalid UTF-8 atoms,
	// compressed terms that do not inflate to their declared size.
	ErrSyntax = errors.New("etf: syntax error")
	// ErrUnsupported reports a well-known tag this package does not handle
	// (funs, pids, ports, references, local terms, ...) or a Go value
	// that has no Erlang form (channels, functions, complex numbers).
	ErrUnsupported = errors.New("etf: unsupported")
	// ErrLimit reports input or values beyond a limit: nesting deeper than
	// MaxDepth, atoms longer than 255 characters, compressed terms larger
	// than MaxInflatedSize.
	ErrLimit = errors.New("etf: limit exceeded")
	// ErrType reports a term whose shape does not fit the Go destination
	// (or a Go value that cannot be encoded, like a NaN float).
	ErrType = errors.New("etf: type mismatch")
)
