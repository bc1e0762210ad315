package seal

import (
	"crypto"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sealkit/sealkit/seal/etf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vector is one Phoenix.Token interop vector, made by Elixir's plug_crypto;
// see testdata/phoenix-token.README.md.
type vector struct {
	Name          string          `json:"name"`
	Kind          string          `json:"kind"`
	KeyBase       string          `json:"key_base"`
	Salt          string          `json:"salt"`
	KeyIterations int             `json:"key_iterations"`
	KeyLength     int             `json:"key_length"`
	KeyDigest     string          `json:"key_digest"`
	Token         string          `json:"token"`
	SignedAtMs    int64           `json:"signed_at_ms"`
	MaxAge        json.RawMessage `json:"max_age"`
	NowMs         int64           `json:"now_ms"`
	DecryptMaxAge *int64          `json:"decrypt_max_age"`
	Expect        string          `json:"expect"`
	DataETFHex    string          `json:"data_etf_hex"`
	Deterministic bool            `json:"deterministic"`
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	b, err := os.ReadFile("testdata/phoenix-token.json")
	require.NoError(t, err)
	var file struct {
		Vectors []vector `json:"vectors"`
	}
	require.NoError(t, json.Unmarshal(b, &file))
	require.NotEmpty(t, file.Vectors)
	return file.Vectors
}

// sealerFor returns a Sealer with the vector's key base and key options, and
// a clock stopped at the vector's now_ms.
func sealerFor(t testing.TB, v vector) *Sealer {
	t.Helper()
	digests := map[string]crypto.Hash{"sha256": crypto.SHA256, "sha384": crypto.SHA384, "sha512": crypto.SHA512}
	h, ok := digests[v.KeyDigest]
	require.True(t, ok, "digest %q", v.KeyDigest)
	now := time.UnixMilli(v.NowMs)
	s, err := New([]byte(v.KeyBase),
		KeyIterations(v.KeyIterations), KeyLength(v.KeyLength), KeyDigest(h),
		WithClock(func() time.Time { return now }))
	require.NoError(t, err)
	return s
}

// TestVectors opens every token made by Elixir at its now_ms, checks the
// outcome, re-encodes the decoded data to the bytes OTP 26 writes, and
// re-signs the sign vectors to the identical token.
func TestVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			s := sealerFor(t, v)
			var opts []TokenOption
			if v.DecryptMaxAge != nil {
				opts = append(opts, MaxAge(time.Duration(*v.DecryptMaxAge)*time.Second))
			}
			open := s.Decrypt
			if v.Kind == "sign" {
				open = s.Verify
			}
			var got any
			err := open(v.Salt, v.Token, &got, opts...)
			switch v.Expect {
			case "ok":
				require.NoError(t, err)
				enc, err := etf.Marshal(got)
				require.NoError(t, err)
				assert.Equal(t, v.DataETFHex, hex.EncodeToString(enc))
				if v.Kind == "sign" {
					resigned, err := s.Sign(v.Salt, got, SignedAt(time.UnixMilli(v.SignedAtMs)), vectorMaxAge(t, v))
					require.NoError(t, err)
					assert.Equal(t, v.Token, resigned)
				}
			case "expired":
				require.ErrorIs(t, err, ErrExpired)
				assert.Nil(t, got, "an expired token must not fill dst")
			case "invalid":
				if v.Token == "" {
					require.ErrorIs(t, err, ErrMissing)
				} else {
					require.ErrorIs(t, err, ErrInvalid)
				}
				assert.Nil(t, got)
			default:
				t.Fatalf("unknown expect %q", v.Expect)
			}
		})
	}
}

// vectorMaxAge is the TokenOption that embeds the vector's max_age.
func vectorMaxAge(t *testing.T, v vector) TokenOption {
	t.Helper()
	if string(v.MaxAge) == `"infinity"` {
		return NoMaxAge()
	}
	var secs int64
	require.NoError(t, json.Unmarshal(v.MaxAge, &secs))
	return MaxAge(time.Duration(secs) * time.Second)
}

// TestVectorsReencrypt seals each vector's data again and opens the result:
// what Go writes, Go reads, with the same embedded time and max age.
func TestVectorsReencrypt(t *testing.T) {
	for _, v := range loadVectors(t) {
		if v.Kind != "encrypt" || v.Expect != "ok" || v.DecryptMaxAge != nil || v.KeyLength != 32 {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			s := sealerFor(t, v)
			var data any
			require.NoError(t, s.Decrypt(v.Salt, v.Token, &data))
			tok, err := s.Encrypt(v.Salt, data, SignedAt(time.UnixMilli(v.SignedAtMs)), vectorMaxAge(t, v))
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(tok, "XCP."))
			mine, err := s.openEncrypted(v.Salt, tok, new([]byte))
			require.NoError(t, err)
			theirs, err := s.openEncrypted(v.Salt, v.Token, new([]byte))
			require.NoError(t, err)
			if strings.HasSuffix(v.Name, "otp26") {
				assert.Equal(t, hex.EncodeToString(theirs), hex.EncodeToString(mine), "payload bytes as OTP 26 writes them")
			}
			var again any
			require.NoError(t, s.Decrypt(v.Salt, tok, &again))
			assert.Equal(t, data, again)
		})
	}
}
