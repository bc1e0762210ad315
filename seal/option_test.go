package seal

import (
	"bytes"
	"crypto"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewValidatesOptions(t *testing.T) {
	tests := []struct {
		name    string
		keyBase []byte
		opts    []Option
	}{
		{"short key base", []byte("too short"), nil},
		{"nil key base", nil, nil},
		{"zero iterations", testKeyBase, []Option{KeyIterations(0)}},
		{"negative iterations", testKeyBase, []Option{KeyIterations(-1)}},
		{"key length 8", testKeyBase, []Option{KeyLength(8)}},
		{"key length huge", testKeyBase, []Option{KeyLength(1 << 20)}},
		{"digest sha1", testKeyBase, []Option{KeyDigest(crypto.SHA1)}},
		{"digest md5", testKeyBase, []Option{KeyDigest(crypto.MD5)}},
		{"nil clock", testKeyBase, []Option{WithClock(nil)}},
		{"nil rand", testKeyBase, []Option{WithRand(nil)}},
		{"short previous key base", testKeyBase, []Option{PreviousKeyBases(oldKeyBase, []byte("short"))}},
		{"tiny max token size", testKeyBase, []Option{MaxTokenSize(10)}},
		{"negative default max age", testKeyBase, []Option{DefaultTokenMaxAge(-time.Second)}},
		{"fractional default max age", testKeyBase, []Option{DefaultTokenMaxAge(1500 * time.Millisecond)}},
		{"zero key cache", testKeyBase, []Option{KeyCacheSize(0)}},
		{"negative clock skew", testKeyBase, []Option{ClockSkew(-time.Millisecond)}},
		{"nil option", testKeyBase, []Option{nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.keyBase, tt.opts...)
			require.ErrorIs(t, err, ErrInvalidOptions)
			assert.Nil(t, s)
		})
	}
	t.Run("all valid", func(t *testing.T) {
		s, err := New(testKeyBase, KeyIterations(2000), KeyLength(64), KeyDigest(crypto.SHA512),
			WithClock(time.Now), WithRand(bytes.NewReader(make([]byte, 1024))), PreviousKeyBases(oldKeyBase),
			MaxTokenSize(1<<20), DefaultTokenMaxAge(time.Hour), KeyCacheSize(8), ClockSkew(time.Second))
		require.NoError(t, err)
		require.NotNil(t, s)
	})
}

func TestNewCopiesKeyBases(t *testing.T) {
	kb := bytes.Clone(testKeyBase)
	old := bytes.Clone(oldKeyBase)
	s, err := New(kb, PreviousKeyBases(old))
	require.NoError(t, err)
	tok, err := s.Encrypt("purpose", "x")
	require.NoError(t, err)
	clear(kb)
	clear(old)
	var got string
	require.NoError(t, s.Decrypt("purpose", tok, &got))
	assert.Equal(t, "x", got)
}

func TestTokenOptionsValidate(t *testing.T) {
	s, _ := newTestSealer(t)
	for name, opt := range map[string]TokenOption{
		"negative":   MaxAge(-time.Second),
		"fractional": MaxAge(1500 * time.Millisecond),
		"zero value": {},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Encrypt("p", "v", opt)
			require.ErrorIs(t, err, ErrInvalidOptions)
			_, err = s.Sign("p", "v", opt)
			require.ErrorIs(t, err, ErrInvalidOptions)
		})
	}
	tok, err := s.Encrypt("p", "v")
	require.NoError(t, err)
	var got string
	require.ErrorIs(t, s.Decrypt("p", tok, &got, MaxAge(-time.Second)), ErrInvalidOptions)
	require.ErrorIs(t, s.Decrypt("p", tok, &got, TokenOption{}), ErrInvalidOptions)
	require.NoError(t, s.Decrypt("p", tok, &got, MaxAge(1500*time.Millisecond)), "sub-second max age is fine when opening")
}

func TestEncryptNeeds32ByteKey(t *testing.T) {
	s, err := New(testKeyBase, KeyLength(64))
	require.NoError(t, err)
	_, err = s.Encrypt("p", "v")
	require.ErrorIs(t, err, ErrInvalidOptions)
	tok, err := s.Sign("p", "v")
	require.NoError(t, err, "signing takes any key length")
	require.NoError(t, s.Verify("p", tok, nil))

	s32, err := New(testKeyBase)
	require.NoError(t, err)
	enc, err := s32.Encrypt("p", "v")
	require.NoError(t, err)
	require.ErrorIs(t, s.Decrypt("p", enc, nil), ErrInvalid)
}

func TestDestinationMustBePointer(t *testing.T) {
	s, _ := newTestSealer(t)
	tok, err := s.Encrypt("p", "v")
	require.NoError(t, err)
	var str string
	require.ErrorIs(t, s.Decrypt("p", tok, str), ErrInvalidOptions)
	var nilPtr *string
	require.ErrorIs(t, s.Decrypt("p", tok, nilPtr), ErrInvalidOptions)
	require.ErrorIs(t, s.Verify("p", tok, str), ErrInvalidOptions)
}
