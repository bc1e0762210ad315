package seal

import "errors"

// The sentinel errors of the package, returned wrapped with a short reason;
// test for them with [errors.Is]. [Sealer.Decrypt] and [Sealer.Verify] answer
// a bad token with ErrInvalid, ErrExpired or ErrMissing only. Error strings
// never contain key material, token plaintext, or the token itself.
var (
	// ErrInvalid reports a token that cannot be opened: malformed, tampered
	// with, sealed under another key base or salt, too long, signed in the
	// future, or carrying a payload that does not fit the destination.
	ErrInvalid = errors.New("seal: invalid token")

	// ErrExpired reports an authentic token that is older than its max age.
	ErrExpired = errors.New("seal: expired token")

	// ErrMissing reports an empty token (Phoenix answers :missing for nil).
	ErrMissing = errors.New("seal: missing token")

	// ErrInvalidOptions reports a programming error rather than a bad token:
	// a bad option given to [New] or to a token call (such as a negative max
	// age), a destination that is not a non-nil pointer, or encrypting with a
	// key length XChaCha20 cannot use.
	ErrInvalidOptions = errors.New("seal: invalid options")
)
