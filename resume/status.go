package resume

// Status is the outcome of handing a stored blob back to the server, sent to
// the client in the "result" frame and given to [App.Open].
type Status string

// The statuses of protocol v1.
const (
	// StatusFresh means the client had no blob: the page starts over.
	StatusFresh Status = "fresh"
	// StatusResumed means the blob opened and Result.State holds the state.
	StatusResumed Status = "resumed"
	// StatusExpired means the blob was genuine but older than its max age.
	StatusExpired Status = "expired"
	// StatusInvalid means the blob was tampered with, garbage, sealed with
	// another key base or for another purpose (Options.Key), in another blob
	// format (an older server's), held a state that does not decode into S,
	// or was refused by the App's [Checker].
	StatusInvalid Status = "invalid"
	// StatusUnbound means the blob opened but was sealed for another binding
	// (see Options.Bind), e.g. it was copied into another browser session.
	StatusUnbound Status = "unbound"
)

// Result is what became of the client's blob on this connection.
type Result[S any] struct {
	// Status says whether State holds a resumed state.
	Status Status
	// State is the state stored by [Conn.Store]; the zero S unless Status is
	// StatusResumed.
	State S
	// Err is the error that rejected the blob for StatusExpired,
	// StatusInvalid and StatusUnbound; errors.Is(Err, seal.ErrExpired),
	// errors.Is(Err, seal.ErrInvalid) or errors.Is(Err, ErrUnbound) hold.
	// It is nil for StatusFresh and StatusResumed.
	Err error
}
