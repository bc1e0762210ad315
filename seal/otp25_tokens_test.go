package seal

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/seal/etf"
)

// otp25Token is one token made by real Erlang/OTP 25 as Plug.Crypto does;
// see testdata/otp25-tokens.README.md.
type otp25Token struct {
	Name        string          `json:"name"`
	Kind        string          `json:"kind"`
	Elixir      string          `json:"elixir"`
	Token       string          `json:"token"`
	NowMs       int64           `json:"now_ms"`
	OpenMaxAge  json.RawMessage `json:"open_max_age"`
	SkewMs      int64           `json:"skew_ms"`
	Expect      string          `json:"expect"`
	ExpectV2_11 string          `json:"expect_v2_1_1"`
	DataError   string          `json:"data_error"`
}

type otp25File struct {
	KeyBase string       `json:"key_base"`
	Salt    string       `json:"salt"`
	Tokens  []otp25Token `json:"tokens"`
}

func loadOTP25Tokens(t testing.TB) otp25File {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "otp25-tokens.json"))
	require.NoError(t, err)
	var f otp25File
	require.NoError(t, json.Unmarshal(b, &f))
	require.NotEmpty(t, f.Tokens)
	return f
}

// open opens tok with a Sealer whose clock stands at tok.NowMs, and the
// max age option the token's row gives.
func (f otp25File) open(t *testing.T, tok otp25Token, dst any, opts ...Option) error {
	t.Helper()
	now := time.UnixMilli(tok.NowMs)
	s, err := New([]byte(f.KeyBase), append([]Option{WithClock(func() time.Time { return now })}, opts...)...)
	require.NoError(t, err)
	var open []TokenOption
	switch string(tok.OpenMaxAge) {
	case "", "null":
	case `"infinity"`:
		open = append(open, NoMaxAge())
	default:
		var secs int64
		require.NoError(t, json.Unmarshal(tok.OpenMaxAge, &secs))
		open = append(open, MaxAge(time.Duration(secs)*time.Second))
	}
	if tok.Kind == "sign" {
		return s.Verify(f.Salt, tok.Token, dst, open...)
	}
	return s.Decrypt(f.Salt, tok.Token, dst, open...)
}

// outcome names err as the token files do.
func outcome(t *testing.T, err error) string {
	t.Helper()
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrExpired):
		return "expired"
	case errors.Is(err, ErrInvalid):
		return "invalid"
	}
	t.Fatalf("unexpected error %v", err)
	return ""
}

// TestOTP25NilIntoTypedData opens tokens an OTP 25 app made, whose data
// holds nil, true and false as ATOM_EXT, into typed Go destinations.
func TestOTP25NilIntoTypedData(t *testing.T) {
	type fields struct {
		ID    int
		Name  *string
		Tags  []string
		Meta  map[string]int
		Count *int
	}
	type flags struct {
		On    bool
		Off   bool
		Maybe *bool
	}
	one := 1
	f := loadOTP25Tokens(t)
	for _, tok := range f.Tokens {
		var dst, want any
		switch strings.TrimSuffix(strings.TrimSuffix(tok.Name, "/encrypt"), "/sign") {
		case "nil/string-keyed-fields":
			dst = &fields{Name: new(string), Tags: []string{"x"}, Meta: map[string]int{"x": 1}, Count: &one}
			want = &fields{ID: 3}
		case "nil/list":
			dst, want = &[]*int{&one}, &[]*int{nil, &one, nil}
		case "nil/booleans":
			on := true
			dst, want = &flags{Off: true, Maybe: &on}, &flags{On: true}
		default:
			continue
		}
		t.Run(tok.Name, func(t *testing.T) {
			require.NoError(t, f.open(t, tok, dst), tok.Elixir)
			assert.Equal(t, want, dst)
		})
	}
}

// TestFutureSignedAt opens tokens signed before, at and after the clock
// with default, infinite, zero and overridden max ages, with no tolerated
// skew (the outcome is plug_crypto main's validate_age/2) and with 5 s.
func TestFutureSignedAt(t *testing.T) {
	f := loadOTP25Tokens(t)
	n := 0
	for _, tok := range f.Tokens {
		if !strings.HasPrefix(tok.Name, "future/") {
			continue
		}
		n++
		t.Run(tok.Name, func(t *testing.T) {
			var opts []Option
			if tok.SkewMs != 0 {
				opts = append(opts, ClockSkew(time.Duration(tok.SkewMs)*time.Millisecond))
			}
			var got string
			err := f.open(t, tok, &got, opts...)
			require.Equal(t, tok.Expect, outcome(t, err), "%v", err)
			if err == nil {
				assert.Equal(t, "v", got)
			} else {
				assert.Empty(t, got, "a refused token must not fill dst")
			}
		})
	}
	require.Equal(t, 192, n)
}

// TestClockSkewBeyondAnyAgeIsPlugCryptoV211 shows the other end of
// ClockSkew: tolerating any skew gives plug_crypto v2.1.1's answers, which
// never find a token invalid for its time.
func TestClockSkewBeyondAnyAgeIsPlugCryptoV211(t *testing.T) {
	f := loadOTP25Tokens(t)
	for _, tok := range f.Tokens {
		if !strings.HasPrefix(tok.Name, "future/") || tok.SkewMs != 0 {
			continue
		}
		t.Run(tok.Name, func(t *testing.T) {
			err := f.open(t, tok, nil, ClockSkew(100*365*24*time.Hour))
			require.Equal(t, tok.ExpectV2_11, outcome(t, err), "%v", err)
		})
	}
}

// TestOpaqueDataWrapsUnsupported opens authentic tokens whose data holds a
// pid or a reference, which Go has no form for: the error is ErrInvalid
// and, as for any data error, wraps the etf sentinel.
func TestOpaqueDataWrapsUnsupported(t *testing.T) {
	f := loadOTP25Tokens(t)
	n := 0
	for _, tok := range f.Tokens {
		if tok.DataError == "" {
			continue
		}
		require.Equal(t, "unsupported", tok.DataError)
		n++
		t.Run(tok.Name, func(t *testing.T) {
			for _, dst := range []any{new(any), new(etf.RawTerm), new(map[string]any)} {
				err := f.open(t, tok, dst)
				require.ErrorIs(t, err, ErrInvalid)
				require.ErrorIs(t, err, etf.ErrUnsupported, "%v", err)
			}
		})
	}
	require.Equal(t, 8, n)
}
