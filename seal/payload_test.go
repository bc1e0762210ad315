package seal

import (
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/sealkit/sealkit/seal/etf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sealRaw encrypts an arbitrary payload, as a peer holding the key could.
func sealRaw(t testing.TB, s *Sealer, salt string, payload []byte) string {
	t.Helper()
	dk, err := s.keys.get(0, salt)
	require.NoError(t, err)
	buf := slices.Grow(append(make([]byte, xcpHeadSize), payload...), tagSize)
	tok, err := s.sealXCP(dk, buf)
	require.NoError(t, err)
	return tok
}

// signRaw signs an arbitrary payload.
func signRaw(t testing.TB, s *Sealer, salt string, payload []byte) string {
	t.Helper()
	dk, err := s.keys.get(0, salt)
	require.NoError(t, err)
	return signPayload(dk, payload)
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := etf.Marshal(v)
	require.NoError(t, err)
	return b
}

// TestPayloadShapes opens authentic tokens whose payload has each shape
// Phoenix ever wrote, and some it never did.
func TestPayloadShapes(t *testing.T) {
	s, clock := newTestSealer(t)
	now := epoch.UnixMilli()
	hugeInt := new(big.Int).Lsh(big.NewInt(1), 70)
	negHuge := new(big.Int).Neg(hugeInt)
	tests := []struct {
		name    string
		payload []byte
		after   time.Duration
		want    error
	}{
		{"triple", marshal(t, etf.Tuple{"v", now, int64(60)}), time.Minute, nil},
		{"triple expired", marshal(t, etf.Tuple{"v", now, int64(60)}), time.Minute + time.Millisecond, ErrExpired},
		{"pair gets one day", marshal(t, etf.Tuple{"v", now}), 24 * time.Hour, nil},
		{"pair expires after one day", marshal(t, etf.Tuple{"v", now}), 24*time.Hour + time.Millisecond, ErrExpired},
		{"old Phoenix map", marshal(t, map[etf.Atom]any{"data": "v", "signed": now}), 24 * time.Hour, nil},
		{"old Phoenix map expired", marshal(t, map[etf.Atom]any{"data": "v", "signed": now}), 25 * time.Hour, ErrExpired},
		{"map without signed", marshal(t, map[etf.Atom]any{"data": "v"}), 0, ErrInvalid},
		{"float max age truncates", marshal(t, etf.Tuple{"v", now, 1.5}), 1500 * time.Millisecond, nil},
		{"float max age expired", marshal(t, etf.Tuple{"v", now, 1.5}), 1501 * time.Millisecond, ErrExpired},
		{"negative max age", marshal(t, etf.Tuple{"v", now, int64(-5)}), 0, ErrExpired},
		{"huge max age", marshal(t, etf.Tuple{"v", now, hugeInt}), 200 * 365 * 24 * time.Hour, nil},
		{"huge negative max age", marshal(t, etf.Tuple{"v", now, negHuge}), 0, ErrExpired},
		{"infinity", marshal(t, etf.Tuple{"v", now, etf.Atom("infinity")}), 200 * 365 * 24 * time.Hour, nil},
		{"other atom max age", marshal(t, etf.Tuple{"v", now, etf.Atom("forever")}), 0, ErrInvalid},
		{"nil max age", marshal(t, etf.Tuple{"v", now, nil}), 0, ErrInvalid},
		{"float signed_at", marshal(t, etf.Tuple{"v", float64(now), int64(60)}), 0, ErrInvalid},
		// plug_crypto looks at signed_at only for a finite, positive max age.
		{"bad signed_at, infinity", marshal(t, etf.Tuple{"v", "yesterday", etf.Atom("infinity")}), 0, nil},
		{"bad signed_at, max age 0", marshal(t, etf.Tuple{"v", "yesterday", int64(0)}), 0, ErrExpired},
		{"tiny float max age", marshal(t, etf.Tuple{"v", now, 0.0001}), 0, nil},
		{"tiny float max age expired", marshal(t, etf.Tuple{"v", now, 0.0001}), time.Millisecond, ErrExpired},
		{"negative float max age", marshal(t, etf.Tuple{"v", now, -0.5}), 0, ErrExpired},
		{"huge signed_at", marshal(t, etf.Tuple{"v", hugeInt, int64(60)}), 0, ErrInvalid},
		{"ancient signed_at", marshal(t, etf.Tuple{"v", negHuge, int64(60)}), 0, ErrExpired},
		{"ancient signed_at, infinity", marshal(t, etf.Tuple{"v", negHuge, etf.Atom("infinity")}), 0, nil},
		{"four elements", marshal(t, etf.Tuple{"v", now, int64(60), int64(1)}), 0, ErrInvalid},
		{"one element", marshal(t, etf.Tuple{"v"}), 0, ErrInvalid},
		{"list, not tuple", marshal(t, []any{"v", now, int64(60)}), 0, ErrInvalid},
		{"bare term", marshal(t, "v"), 0, ErrInvalid},
		{"not ETF", []byte("hello, world"), 0, ErrInvalid},
		{"empty", nil, 0, ErrInvalid},
		{"trailing byte", append(marshal(t, etf.Tuple{"v", now, int64(60)}), 0), 0, ErrInvalid},
		{"unsupported data", append(append([]byte{131, 104, 3}, 103), make([]byte, 20)...), 0, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Set(epoch)
			enc := sealRaw(t, s, "p", tt.payload)
			sig := signRaw(t, s, "p", tt.payload)
			clock.Set(epoch.Add(tt.after))
			for name, open := range map[string]func(any) error{
				"decrypt": func(dst any) error { return s.Decrypt("p", enc, dst) },
				"verify":  func(dst any) error { return s.Verify("p", sig, dst) },
			} {
				var got any
				err := open(&got)
				if tt.want == nil {
					require.NoError(t, err, name)
					assert.Equal(t, "v", got, name)
				} else {
					require.ErrorIs(t, err, tt.want, name)
					assert.Nil(t, got, name)
				}
			}
		})
	}
}

// TestDecodedValuesDoNotAliasScratch guards the buffer reuse in Decrypt:
// what one call decoded must survive the next calls.
func TestDecodedValuesDoNotAliasScratch(t *testing.T) {
	type blob struct {
		Bytes []byte      `etf:"bytes"`
		Raw   etf.RawTerm `etf:"raw"`
		Text  string      `etf:"text"`
		Any   any         `etf:"any"`
	}
	s, _ := newTestSealer(t)
	first := blob{Bytes: []byte("first bytes"), Raw: etf.RawTerm(marshal(t, "first raw")[1:]), Text: "first text", Any: "first any"}
	tok, err := s.Encrypt("p", first)
	require.NoError(t, err)
	var got blob
	require.NoError(t, s.Decrypt("p", tok, &got))
	want := blob{Bytes: slices.Clone(got.Bytes), Raw: slices.Clone(got.Raw), Text: got.Text, Any: got.Any}
	for i := range 20 {
		other := blob{Bytes: []byte("XXXXXXXXXXXX"), Raw: etf.RawTerm(marshal(t, i)[1:]), Text: "YYYYYYYYYYY", Any: "ZZZZZZZZZ"}
		tok2, err := s.Encrypt("p", other)
		require.NoError(t, err)
		var tmp blob
		require.NoError(t, s.Decrypt("p", tok2, &tmp))
	}
	assert.Equal(t, want, got)
	assert.Equal(t, "first bytes", string(got.Bytes))
}

// TestTimeInTokens seals a time.Time, which travels as an Elixir DateTime,
// and opens it to the microsecond.
func TestTimeInTokens(t *testing.T) {
	s, _ := newTestSealer(t)
	type deadline struct {
		At time.Time `etf:"at"`
	}
	in := deadline{At: time.Date(2025, 11, 26, 17, 0, 0, 123456789, time.FixedZone("CET", 3600))}
	want := deadline{At: time.Date(2025, 11, 26, 16, 0, 0, 123456000, time.UTC)}
	enc, err := s.Encrypt("p", in)
	require.NoError(t, err)
	sig, err := s.Sign("p", in)
	require.NoError(t, err)
	var fromEnc, fromSig deadline
	require.NoError(t, s.Decrypt("p", enc, &fromEnc))
	require.NoError(t, s.Verify("p", sig, &fromSig))
	assert.Equal(t, want, fromEnc)
	assert.Equal(t, want, fromSig)
}
