package seal

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"hash"
	"strings"
	"testing"

	"github.com/sealkit/sealkit/seal/etf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// signWith builds a signed token as Plug.Crypto.MessageVerifier would with
// another digest.
func signWith(t *testing.T, s *Sealer, salt string, h func() hash.Hash, header string, data any) string {
	t.Helper()
	dk, err := s.keys.get(0, salt)
	require.NoError(t, err)
	payload, err := etf.Marshal(etf.Tuple{data, epoch.UnixMilli(), int64(60)})
	require.NoError(t, err)
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString(payload)
	m := hmac.New(h, dk.key)
	m.Write([]byte(signed))
	return signed + "." + enc.EncodeToString(m.Sum(nil))
}

func TestVerifyDigests(t *testing.T) {
	s, _ := newTestSealer(t)
	for _, tt := range []struct {
		header string
		h      func() hash.Hash
	}{
		{"HS256", sha256.New}, {"HS384", sha512.New384}, {"HS512", sha512.New},
	} {
		t.Run(tt.header, func(t *testing.T) {
			tok := signWith(t, s, "p", tt.h, tt.header, "hello")
			var got string
			require.NoError(t, s.Verify("p", tok, &got))
			assert.Equal(t, "hello", got)
			// The header binds the digest: relabelled, it fails.
			other := "SFMyNTY"
			if tt.header == "HS256" {
				other = "SFM1MTI"
			}
			_, rest, _ := strings.Cut(tok, ".")
			require.ErrorIs(t, s.Verify("p", other+"."+rest, &got), ErrInvalid)
		})
	}
	t.Run("HS1 is not accepted", func(t *testing.T) {
		tok := signWith(t, s, "p", sha256.New, "HS1", "hello")
		require.ErrorIs(t, s.Verify("p", tok, nil), ErrInvalid)
	})
}
