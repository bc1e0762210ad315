package seal

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/sealkit/sealkit/seal/etf"
)

// The payload of every token is term_to_binary({data, signed_at_ms,
// max_age_seconds | :infinity}), as Plug.Crypto writes it. Older Phoenix
// wrote {data, signed_at_ms} or %{data: data, signed: signed_at_ms}, which
// open with the default max age of one day.

// infinity is the max age of tokens that never expire.
const infinity etf.Atom = "infinity"

// appendPayload appends the ETF payload for data to buf.
func (s *Sealer) appendPayload(buf []byte, data any, tc tokenConfig) ([]byte, error) {
	signedAt := tc.signedAt
	if !tc.hasSignedAt {
		signedAt = s.cfg.clock()
	}
	ma := s.cfg.defaultMaxAge
	if tc.maxAge.set {
		ma = tc.maxAge
	}
	var maxAgeTerm any = infinity
	if !ma.infinite {
		maxAgeTerm = int64(ma.d / time.Second)
	}
	out, err := etf.AppendMarshal(buf, etf.Tuple{data, signedAt.UnixMilli(), maxAgeTerm})
	if err != nil {
		// The data is the caller's own: etf's detail (a Go type, a float)
		// says what to fix. Only opening reduces etf errors to sentinels.
		return buf, fmt.Errorf("seal: encoding data: %w", err)
	}
	if tc.compressed {
		out = compressPayload(out, len(buf))
	}
	return out, nil
}

// compressPayload replaces the payload at buf[start:] by its compressed
// form when that is shorter, clearing the plaintext it no longer uses.
func compressPayload(buf []byte, start int) []byte {
	c := etf.Compress(buf[start:])
	if len(c) >= len(buf)-start {
		return buf
	}
	n := copy(buf[start:], c)
	clear(buf[start+n:])
	clear(c)
	return buf[:start+n]
}

// openPayload decodes an authentic payload, checks its age against the
// clock, and only then decodes the data into dst.
func (s *Sealer) openPayload(payload []byte, dst any, tc tokenConfig) error {
	const compressedTag = 80 // term_to_binary(T, [compressed]), Plug.Crypto 2.2's compressed: true
	if len(payload) > 1 && payload[1] == compressedTag {
		plain, err := etf.Decompress(payload)
		if err != nil {
			return payloadError(err)
		}
		defer clear(plain) // no plaintext lingers
		payload = plain
	}
	parts, err := payloadParts(payload)
	if err != nil {
		return err
	}
	// As Keyword.get(opts, :max_age, max_age): an option given when
	// opening replaces the embedded max age, which is then not looked at.
	ma := maxAgeMs{ms: DefaultMaxAge.Milliseconds()}
	switch {
	case tc.maxAge.set:
		ma = maxAgeMs{infinite: tc.maxAge.infinite, expired: tc.maxAge.d <= 0, ms: tc.maxAge.d.Milliseconds()}
	case len(parts) == 3:
		if ma, err = embeddedMaxAge(parts[2]); err != nil {
			return err
		}
	}
	if err := checkAge(parts[1], s.cfg.clock().UnixMilli(), ma, s.cfg.skewMs); err != nil {
		return err
	}
	if dst == nil {
		return nil
	}
	if err := etf.UnmarshalRaw(parts[0], dst); err != nil {
		return dataError(err)
	}
	return nil
}

// payloadParts splits a payload into data, signed_at and, when present,
// max_age: {data, signed_at, max_age}, {data, signed_at} (Plug.Crypto 1.1),
// or %{data: data, signed: signed_at} (Phoenix before Plug.Crypto). A
// payload that is not well-formed ETF, such as one whose data holds a pid,
// gives an error that also wraps the etf sentinel.
func payloadParts(payload []byte) ([]etf.RawTerm, error) {
	const smallTupleExt, largeTupleExt = 104, 105 // tags of the term after the version byte
	if len(payload) > 1 && (payload[1] == smallTupleExt || payload[1] == largeTupleExt) {
		// The parts alias payload, a buffer Decrypt owns: no copy of the data.
		parts, err := etf.TupleElements(payload)
		if err != nil {
			return nil, payloadError(err)
		}
		if len(parts) != 2 && len(parts) != 3 {
			return nil, invalid("payload is not {data, signed_at, max_age}")
		}
		return parts, nil
	}
	var old struct {
		Data   etf.RawTerm `etf:"data"`
		Signed etf.RawTerm `etf:"signed"`
	}
	if err := etf.Unmarshal(payload, &old); err != nil {
		return nil, payloadError(err)
	}
	if old.Data == nil || old.Signed == nil {
		return nil, invalid("payload is not {data, signed_at, max_age}")
	}
	return []etf.RawTerm{old.Data, old.Signed}, nil
}

// payloadError reports an authentic payload that etf cannot decode.
func payloadError(err error) error {
	return fmt.Errorf("%w: payload is not {data, signed_at, max_age}: %w", ErrInvalid, etfSentinel(err))
}

// maxAgeMs is a max age in milliseconds, saturated at math.MaxInt64.
// expired records a max age of zero or less as given, before it is
// truncated to milliseconds (0.0001 seconds is positive but 0 ms).
type maxAgeMs struct {
	infinite bool
	expired  bool
	ms       int64
}

// checkAge applies Plug.Crypto's validate_age/2 as on plug_crypto's main
// branch (lib/plug/crypto.ex, added by commit b0665ea179e3 "Reject tokens
// with future signed_at timestamps (#48)", unchanged at c326c3c743b1), in
// its order: an infinite max age is valid, whatever signed_at holds; a
// max age of zero or less is expired; a token signed more than skew ms
// after now is invalid; one with signed + max_age < now is expired.
func checkAge(signedRaw etf.RawTerm, now int64, ma maxAgeMs, skew int64) error {
	if ma.infinite {
		return nil
	}
	if ma.expired {
		return ErrExpired
	}
	signed, err := signedAtMs(signedRaw)
	if err != nil {
		return err
	}
	// The differences are taken in the direction that cannot overflow.
	if signed > now && uint64(signed)-uint64(now) > uint64(skew) {
		return invalid("signed in the future")
	}
	if signed < now && uint64(now)-uint64(signed) > uint64(ma.ms) {
		return ErrExpired
	}
	return nil
}

func signedAtMs(raw etf.RawTerm) (int64, error) {
	var v any
	if err := etf.UnmarshalRaw(raw, &v); err != nil {
		return 0, invalid("bad signed_at")
	}
	switch n := v.(type) {
	case int64:
		return n, nil
	case *big.Int:
		if n.Sign() < 0 {
			return math.MinInt64, nil // long ago: expired unless max age is infinite
		}
	}
	return 0, invalid("bad signed_at")
}

func embeddedMaxAge(raw etf.RawTerm) (maxAgeMs, error) {
	var v any
	if err := etf.UnmarshalRaw(raw, &v); err != nil {
		return maxAgeMs{}, invalid("bad max_age")
	}
	switch n := v.(type) {
	case etf.Atom:
		if n == infinity {
			return maxAgeMs{infinite: true}, nil
		}
	case int64:
		if n > math.MaxInt64/1000 {
			return maxAgeMs{ms: math.MaxInt64}, nil
		}
		return maxAgeMs{expired: n <= 0, ms: n * 1000}, nil
	case float64: // Elixir allows float seconds: trunc(max_age * 1000)
		ms := math.Trunc(n * 1000)
		if ms >= math.MaxInt64 {
			return maxAgeMs{ms: math.MaxInt64}, nil
		}
		return maxAgeMs{expired: n <= 0, ms: int64(ms)}, nil
	case *big.Int:
		if n.Sign() > 0 {
			return maxAgeMs{ms: math.MaxInt64}, nil
		}
		return maxAgeMs{expired: true}, nil
	}
	return maxAgeMs{}, invalid("bad max_age")
}

// dataError reports authentic data that does not decode into dst.
func dataError(err error) error {
	return fmt.Errorf("%w: data does not fit the destination: %w", ErrInvalid, etfSentinel(err))
}

// etfSentinel reduces an etf error met while opening a token to its
// sentinel: etf's detail could quote the plaintext, which must not reach
// error strings or logs. An *etf.TagError is kept: it names the tag and
// why it was refused (a compressed term too large, a local term) and never
// holds the input's bytes.
func etfSentinel(err error) error {
	if te, ok := errors.AsType[*etf.TagError](err); ok {
		return te
	}
	for _, sentinel := range []error{etf.ErrType, etf.ErrUnsupported, etf.ErrLimit, etf.ErrSyntax} {
		if errors.Is(err, sentinel) {
			return sentinel
		}
	}
	return errors.New("etf: error")
}
