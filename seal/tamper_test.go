package seal

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// replacements are the characters each position of a token is changed to:
// base64url characters (which keep the token decodable), the separator,
// padding, whitespace and bytes outside ASCII.
var replacements = []byte("AB_-09azQgw.=\n \x00\xff*+/")

// TestEverySingleByteChangeIsInvalid changes each byte of a valid token of
// every format to each replacement, and expects ErrInvalid every time.
func TestEverySingleByteChangeIsInvalid(t *testing.T) {
	s, _ := newTestSealer(t)
	enc, err := s.Encrypt("p", map[string]any{"user": "josé", "id": 42})
	require.NoError(t, err)
	sig, err := s.Sign("p", map[string]any{"user": "josé", "id": 42})
	require.NoError(t, err)

	var legacy vector
	for _, v := range loadVectors(t) {
		if v.Name == "map-mixed-keys/encrypt-legacy-a128gcm" {
			legacy = v
		}
	}
	require.NotEmpty(t, legacy.Token)
	ls := sealerFor(t, legacy)

	tests := []struct {
		name  string
		token string
		open  func(string) error
	}{
		{"xcp", enc, func(tok string) error { var v any; return s.Decrypt("p", tok, &v) }},
		{"signed", sig, func(tok string) error { var v any; return s.Verify("p", tok, &v) }},
		{"legacy", legacy.Token, func(tok string) error { var v any; return ls.Decrypt(legacy.Salt, tok, &v) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, tt.open(tt.token))
			b := []byte(tt.token)
			tried := 0
			for i := range b {
				orig := b[i]
				for _, r := range append(replacements, orig^0x01, orig^0x20) {
					if r == orig {
						continue
					}
					b[i] = r
					err := tt.open(string(b))
					if !errors.Is(err, ErrInvalid) {
						t.Fatalf("byte %d changed from %q to %q: got %v, want ErrInvalid", i, orig, r, err)
					}
					tried++
				}
				b[i] = orig
			}
			t.Logf("%d changed tokens rejected", tried)
		})
	}
}
