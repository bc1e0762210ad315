package seal

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRotation(t *testing.T) {
	oldS, err := New(oldKeyBase, WithClock(func() time.Time { return epoch }))
	require.NoError(t, err)
	rotated, err := New(testKeyBase, WithClock(func() time.Time { return epoch }), PreviousKeyBases(otherBase, oldKeyBase))
	require.NoError(t, err)
	current, err := New(testKeyBase, WithClock(func() time.Time { return epoch }))
	require.NoError(t, err)

	tests := []struct {
		name string
		seal func(*Sealer) func(string, any, ...TokenOption) (string, error)
		open func(*Sealer) func(string, string, any, ...TokenOption) error
	}{
		{"encrypt", func(s *Sealer) func(string, any, ...TokenOption) (string, error) { return s.Encrypt },
			func(s *Sealer) func(string, string, any, ...TokenOption) error { return s.Decrypt }},
		{"sign", func(s *Sealer) func(string, any, ...TokenOption) (string, error) { return s.Sign },
			func(s *Sealer) func(string, string, any, ...TokenOption) error { return s.Verify }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldTok, err := tt.seal(oldS)("p", "from before")
			require.NoError(t, err)
			var got string
			require.NoError(t, tt.open(rotated)("p", oldTok, &got), "old tokens open after rotation")
			assert.Equal(t, "from before", got)
			require.ErrorIs(t, tt.open(current)("p", oldTok, &got), ErrInvalid, "and not once the old base is dropped")

			newTok, err := tt.seal(rotated)("p", "from now")
			require.NoError(t, err)
			require.NoError(t, tt.open(current)("p", newTok, &got), "new tokens use the current key base")
			assert.Equal(t, "from now", got)
			require.ErrorIs(t, tt.open(oldS)("p", newTok, &got), ErrInvalid)
		})
	}

	t.Run("legacy", func(t *testing.T) {
		for _, v := range loadVectors(t) {
			if !strings.HasSuffix(v.Name, "legacy-a128gcm") {
				continue
			}
			s, err := New(testKeyBase, PreviousKeyBases([]byte(v.KeyBase)), WithClock(func() time.Time { return time.UnixMilli(v.NowMs) }))
			require.NoError(t, err)
			require.NoError(t, s.Decrypt(v.Salt, v.Token, nil), v.Name)
		}
	})
}

func TestPurposeBinding(t *testing.T) {
	s, _ := newTestSealer(t)
	other, err := New(otherBase)
	require.NoError(t, err)
	for _, kind := range []string{"encrypt", "sign"} {
		t.Run(kind, func(t *testing.T) {
			seal, open := s.Encrypt, s.Decrypt
			cross := s.Verify
			if kind == "sign" {
				seal, open, cross = s.Sign, s.Verify, s.Decrypt
			}
			tok, err := seal("user auth", 7)
			require.NoError(t, err)
			var n int
			require.NoError(t, open("user auth", tok, &n))
			assert.Equal(t, 7, n)
			for _, salt := range []string{"user auth ", "User auth", "", "password reset"} {
				require.ErrorIs(t, open(salt, tok, &n), ErrInvalid, "salt %q", salt)
			}
			require.ErrorIs(t, cross("user auth", tok, &n), ErrInvalid, "the other kind of token")
			otherOpen := other.Decrypt
			if kind == "sign" {
				otherOpen = other.Verify
			}
			require.ErrorIs(t, otherOpen("user auth", tok, &n), ErrInvalid, "another key base")
		})
	}
}

// TestLegacyKeyIsCutTo32Bytes opens plug_crypto 1.x tokens with a longer key
// length: 1.x cut the key to 32 bytes, and PBKDF2's first 32 bytes do not
// depend on the length asked for.
func TestLegacyKeyIsCutTo32Bytes(t *testing.T) {
	for _, v := range loadVectors(t) {
		if !strings.HasSuffix(v.Name, "legacy-a128gcm") {
			continue
		}
		s, err := New([]byte(v.KeyBase), KeyLength(64), WithClock(func() time.Time { return time.UnixMilli(v.NowMs) }))
		require.NoError(t, err)
		require.NoError(t, s.Decrypt(v.Salt, v.Token, nil), v.Name)
	}
}
