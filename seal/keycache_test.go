package seal

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKeyDerivedOncePerSalt proves PBKDF2 runs once per (key base, salt),
// never per token, even when many goroutines ask for a new salt at once.
func TestKeyDerivedOncePerSalt(t *testing.T) {
	s, _ := newTestSealer(t, PreviousKeyBases(oldKeyBase))
	salts := []string{"auth", "reset", "invite"}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 30 {
				salt := salts[(g+i)%len(salts)]
				tok, err := s.Encrypt(salt, i)
				assert.NoError(t, err)
				assert.NoError(t, s.Decrypt(salt, tok, nil))
				sig, err := s.Sign(salt, i)
				assert.NoError(t, err)
				assert.NoError(t, s.Verify(salt, sig, nil))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(len(salts)), s.keys.derivations.Load(), "current key base only: one derivation per salt")

	// A token no key opens tries every key base once, and then they are cached.
	for range 20 {
		require.ErrorIs(t, s.Decrypt("auth", "XCP."+strings.Repeat("A", 80), nil), ErrInvalid)
	}
	assert.Equal(t, int64(len(salts)+1), s.keys.derivations.Load())
}

func TestKeyCacheIsBounded(t *testing.T) {
	s, _ := newTestSealer(t, KeyCacheSize(3))
	for i := range 10 {
		_, err := s.Encrypt(fmt.Sprint("salt-", i), "v")
		require.NoError(t, err)
		assert.LessOrEqual(t, s.keys.len(), 3)
	}
	assert.Equal(t, int64(10), s.keys.derivations.Load())
	assert.Equal(t, 3, s.keys.len())
}

func TestKeyCacheKeepsHotKeys(t *testing.T) {
	s, _ := newTestSealer(t, KeyCacheSize(4))
	_, err := s.Encrypt("hot", "v")
	require.NoError(t, err)
	for i := range 40 {
		_, err := s.Encrypt("hot", "v") // touched between every cold salt
		require.NoError(t, err)
		_, err = s.Encrypt(fmt.Sprint("cold-", i), "v")
		require.NoError(t, err)
	}
	assert.Equal(t, int64(41), s.keys.derivations.Load(), "the hot salt was never evicted")
}

func TestKeyCacheDistinguishesKeyBases(t *testing.T) {
	c := newKeyCache(8, func(base int, salt string) (*derivedKey, error) {
		return &derivedKey{key: []byte(fmt.Sprint(base, "/", salt))}, nil
	})
	a, err := c.get(0, "x")
	require.NoError(t, err)
	b, err := c.get(1, "x")
	require.NoError(t, err)
	assert.Equal(t, "0/x", string(a.key))
	assert.Equal(t, "1/x", string(b.key))
	again, err := c.get(0, "x")
	require.NoError(t, err)
	assert.Same(t, a, again)
	assert.Equal(t, int64(2), c.derivations.Load())
}

func BenchmarkKeyCacheHit(b *testing.B) {
	s, _ := newTestSealer(b)
	_, err := s.keys.get(0, "salt")
	require.NoError(b, err)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.keys.get(0, "salt"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
