package seal

import (
	"crypto"
	"fmt"
	"io"
	"time"
)

// Defaults, matching Plug.Crypto and Phoenix.Token.
const (
	// DefaultKeyIterations is the PBKDF2 iteration count Plug.Crypto uses.
	DefaultKeyIterations = 1000
	// DefaultKeyLength is the derived key length in bytes Plug.Crypto uses,
	// and the only one XChaCha20-Poly1305 ([Sealer.Encrypt]) accepts.
	DefaultKeyLength = 32
	// DefaultMaxAge is the max age embedded in tokens unless told otherwise:
	// one day, as in Phoenix.Token.
	DefaultMaxAge = 86400 * time.Second
	// DefaultMaxTokenSize is the longest token, in bytes, that opening accepts
	// unless [MaxTokenSize] says otherwise: 64 KiB, well above what a cookie,
	// header or sessionStorage entry holds in practice.
	DefaultMaxTokenSize = 64 << 10
	// DefaultKeyCacheSize is how many derived keys a Sealer keeps, one per
	// (key base, salt) pair, unless [KeyCacheSize] says otherwise.
	DefaultKeyCacheSize = 256

	minKeyBase   = 32
	minKeyLength = 16
	maxKeyLength = 1024
)

// An Option configures a [Sealer] in [New]. Every option is checked there:
// New returns an error wrapping [ErrInvalidOptions] for a bad one.
type Option func(*config) error

type config struct {
	iterations    int
	length        int
	digest        crypto.Hash
	clock         func() time.Time
	rand          io.Reader
	previous      [][]byte
	maxTokenSize  int
	defaultMaxAge maxAge
	cacheSize     int
	skewMs        int64
}

func defaultConfig() config {
	return config{
		iterations:    DefaultKeyIterations,
		length:        DefaultKeyLength,
		digest:        crypto.SHA256,
		clock:         time.Now,
		maxTokenSize:  DefaultMaxTokenSize,
		defaultMaxAge: maxAge{set: true, d: DefaultMaxAge},
		cacheSize:     DefaultKeyCacheSize,
	}
}

func optionError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...)
}

// KeyIterations sets the PBKDF2 iteration count (Plug's :key_iterations,
// default 1000). It must be at least 1.
func KeyIterations(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return optionError("key iterations %d < 1", n)
		}
		c.iterations = n
		return nil
	}
}

// KeyLength sets the derived key length in bytes (Plug's :key_length,
// default 32), between 16 and 1024. Signing accepts any of them; encrypting
// needs 32, and legacy A128GCM tokens open with 16, 24 or 32 (longer keys are
// cut to 32, as plug_crypto 1.x did).
func KeyLength(n int) Option {
	return func(c *config) error {
		if n < minKeyLength || n > maxKeyLength {
			return optionError("key length %d outside [%d, %d]", n, minKeyLength, maxKeyLength)
		}
		c.length = n
		return nil
	}
}

// KeyDigest sets the PBKDF2 hash (Plug's :key_digest): [crypto.SHA256] (the
// default), [crypto.SHA384] or [crypto.SHA512].
func KeyDigest(h crypto.Hash) Option {
	return func(c *config) error {
		switch h {
		case crypto.SHA256, crypto.SHA384, crypto.SHA512:
			c.digest = h
			return nil
		}
		return optionError("key digest %v is not SHA256, SHA384 or SHA512", h)
	}
}

// WithClock sets the clock used to stamp new tokens and to judge expiry
// (default [time.Now]). It must not be nil, and must be safe to call from
// several goroutines at once, as time.Now is.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return optionError("nil clock")
		}
		c.clock = now
		return nil
	}
}

// ClockSkew sets how far in the future a token's signed_at may lie when
// opening, to tolerate a peer whose clock runs ahead of this one (default
// 0). It must not be negative; it counts in whole milliseconds, as
// signed_at does.
//
// Plug.Crypto versions differ here. plug_crypto v2.1.1 has no future
// check at all: an Elixir app accepts a token signed at any future time,
// as long as its max age has not passed. Its main branch (commit b0665ea,
// "Reject tokens with future signed_at timestamps"; whether a 2.2.x
// release carries it is not checked here) answers :invalid for a token
// signed after its clock, after
// the checks for an infinite max age (valid) and for a max age of zero or
// less (expired). Opening follows main: with the default skew of 0 a
// token signed 1 ms ahead of the clock is invalid, so a Go service opening
// tokens minted by an Elixir host whose clock runs a little ahead should
// set a skew of a few seconds. A skew longer than any token can be signed
// ahead (a century, say) reproduces v2.1.1.
func ClockSkew(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return optionError("negative clock skew %v", d)
		}
		c.skewMs = d.Milliseconds()
		return nil
	}
}

// WithRand sets the source of nonces (default crypto/rand). It must not be
// nil, and should be a cryptographically secure generator except in tests.
// The Sealer serializes its reads, so r need not be safe for concurrent use.
func WithRand(r io.Reader) Option {
	return func(c *config) error {
		if r == nil {
			return optionError("nil random source")
		}
		c.rand = r
		return nil
	}
}

// PreviousKeyBases adds retired key bases for rotation: tokens sealed or
// signed under any of them still open, and new tokens always use the current
// key base. Each must be at least 32 bytes; they are tried in order after the
// current one. Calling it again appends.
func PreviousKeyBases(old ...[]byte) Option {
	return func(c *config) error {
		for i, kb := range old {
			if len(kb) < minKeyBase {
				return optionError("previous key base %d is shorter than %d bytes", i, minKeyBase)
			}
			c.previous = append(c.previous, append([]byte(nil), kb...))
		}
		return nil
	}
}

// MaxTokenSize sets the longest token, in bytes, that opening accepts
// (default [DefaultMaxTokenSize]). Longer tokens are rejected with
// [ErrInvalid] before any decoding. It must be at least 64.
func MaxTokenSize(n int) Option {
	return func(c *config) error {
		if n < 64 {
			return optionError("max token size %d < 64", n)
		}
		c.maxTokenSize = n
		return nil
	}
}

// DefaultTokenMaxAge sets the max age embedded in new tokens when the call
// gives no [MaxAge] or [NoMaxAge] (default one day, as in Phoenix). It must
// be a non-negative whole number of seconds.
func DefaultTokenMaxAge(d time.Duration) Option {
	return func(c *config) error {
		ma, err := maxAgeOf(d)
		if err != nil {
			return err
		}
		c.defaultMaxAge = ma
		return nil
	}
}

// KeyCacheSize sets how many derived keys, one per (key base, salt) pair, a
// Sealer keeps (default [DefaultKeyCacheSize]); at least 1. When more pairs
// are in use, the least recently used keys are derived again on demand.
func KeyCacheSize(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return optionError("key cache size %d < 1", n)
		}
		c.cacheSize = n
		return nil
	}
}
