package seal

import "time"

// A TokenOption adjusts one call to Encrypt, Decrypt, Sign or Verify. It is a
// small value, so passing options does not allocate. The zero TokenOption is
// invalid.
type TokenOption struct {
	kind tokenOptionKind
	d    time.Duration
	t    time.Time
}

type tokenOptionKind uint8

const (
	optMaxAge tokenOptionKind = iota + 1
	optNoMaxAge
	optSignedAt
	optCompressed
)

// MaxAge sets a token's max age, as Phoenix's :max_age. When sealing or
// signing, it is embedded in the token, in whole seconds (d must be a
// non-negative whole number of seconds); the default is [DefaultMaxAge].
// When opening, it overrides the embedded max age, with millisecond
// precision; zero means every token is expired, as in Plug.Crypto.
func MaxAge(d time.Duration) TokenOption { return TokenOption{kind: optMaxAge, d: d} }

// NoMaxAge makes a token never expire, as Phoenix's max_age: :infinity: when
// sealing or signing it embeds :infinity; when opening it ignores the
// embedded max age. Use it sparingly: such a token can be replayed forever.
func NoMaxAge() TokenOption { return TokenOption{kind: optNoMaxAge} }

// SignedAt sets the time stamped into a new token instead of the clock's
// now, as Phoenix's :signed_at. It only matters when sealing or signing
// (truncated to the millisecond) and is ignored when opening.
func SignedAt(t time.Time) TokenOption { return TokenOption{kind: optSignedAt, t: t} }

// Compressed makes Encrypt and Sign write the payload as
// :erlang.term_to_binary(term, [:compressed]), as Phoenix.Token and
// Plug.Crypto 2.2 and later do with compressed: true: zlib-compressed, but
// only when that makes it shorter (small terms stay as they are, as in
// Erlang). Worth it for large, repetitive data only: each call allocates
// compress/zlib's compressor (about 800 KB; see BENCHMARKS.md). A token
// still has to fit [MaxTokenSize] and its term [etf.MaxInflatedSize] once
// inflated. Go's zlib writes other bytes than Erlang's, so a compressed
// token is not byte-identical to Elixir's, but every reader (plug_crypto
// 2.1.1 and 2.2 included) opens it to the same term. Opening needs no
// option: Decrypt and Verify inflate compressed payloads whenever they meet
// one.
func Compressed() TokenOption { return TokenOption{kind: optCompressed} }

// maxAge is a max age as embedded in or applied to a token.
type maxAge struct {
	set      bool // false: none given (use the embedded or default one)
	infinite bool
	d        time.Duration
}

// maxAgeOf validates a max age for embedding in a token.
func maxAgeOf(d time.Duration) (maxAge, error) {
	if d < 0 {
		return maxAge{}, optionError("negative max age")
	}
	if d%time.Second != 0 {
		return maxAge{}, optionError("max age %v is not a whole number of seconds", d)
	}
	return maxAge{set: true, d: d}, nil
}

type tokenConfig struct {
	maxAge      maxAge
	signedAt    time.Time
	hasSignedAt bool
	compressed  bool
}

// tokenOptions applies opts; sealing selects the stricter rules for max ages
// that will be embedded.
func tokenOptions(opts []TokenOption, sealing bool) (tokenConfig, error) {
	var tc tokenConfig
	for _, o := range opts {
		switch o.kind {
		case optMaxAge:
			if o.d < 0 {
				return tc, optionError("negative max age")
			}
			if sealing {
				ma, err := maxAgeOf(o.d)
				if err != nil {
					return tc, err
				}
				tc.maxAge = ma
			} else {
				tc.maxAge = maxAge{set: true, d: o.d}
			}
		case optNoMaxAge:
			tc.maxAge = maxAge{set: true, infinite: true}
		case optSignedAt:
			tc.signedAt, tc.hasSignedAt = o.t, true
		case optCompressed:
			tc.compressed = true
		default:
			return tc, optionError("zero TokenOption")
		}
	}
	return tc, nil
}
