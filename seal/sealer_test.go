package seal

import (
	"bytes"
	"errors"
	"math"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealkit/sealkit/internal/fakeclock"
	"github.com/sealkit/sealkit/seal/etf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	testKeyBase = []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	oldKeyBase  = []byte("an older key base, retired but still honoured for a while")
	otherBase   = []byte("a completely different key base of a different service!!")
	epoch       = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
)

func newTestSealer(t testing.TB, opts ...Option) (*Sealer, *fakeclock.Clock) {
	t.Helper()
	clock := fakeclock.At(epoch)
	s, err := New(testKeyBase, append([]Option{WithClock(clock.Now)}, opts...)...)
	require.NoError(t, err)
	return s, clock
}

type session struct {
	User  string   `etf:"user"`
	ID    int64    `etf:"id"`
	Roles []string `etf:"roles"`
}

func TestRoundTrip(t *testing.T) {
	s, _ := newTestSealer(t)
	in := session{User: "josé", ID: 42, Roles: []string{"admin", "dev"}}
	tests := []struct {
		name  string
		seal  func(string, any, ...TokenOption) (string, error)
		open  func(string, string, any, ...TokenOption) error
		start string
	}{
		{"encrypt", s.Encrypt, s.Decrypt, "XCP."},
		{"sign", s.Sign, s.Verify, "SFMyNTY."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := tt.seal("user session", in)
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(tok, tt.start), tok)

			var out session
			require.NoError(t, tt.open("user session", tok, &out))
			assert.Equal(t, in, out)

			var m map[string]any
			require.NoError(t, tt.open("user session", tok, &m))
			assert.Equal(t, "josé", m["user"])

			require.NoError(t, tt.open("user session", tok, nil), "nil dst only checks")

			var n int
			err = tt.open("user session", tok, &n)
			require.ErrorIs(t, err, ErrInvalid)
			require.ErrorIs(t, err, etf.ErrType)
			assert.NotContains(t, err.Error(), "josé")
		})
	}
}

func TestEncryptIsRandomized(t *testing.T) {
	s, _ := newTestSealer(t)
	a, err := s.Encrypt("p", "same")
	require.NoError(t, err)
	b, err := s.Encrypt("p", "same")
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "a fresh nonce per token")

	fixed, _ := newTestSealer(t, WithRand(bytes.NewReader(make([]byte, 48))))
	c, err := fixed.Encrypt("p", "same")
	require.NoError(t, err)
	d, err := fixed.Encrypt("p", "same")
	require.NoError(t, err)
	assert.Equal(t, c, d, "WithRand supplies the nonce")
	_, err = fixed.Encrypt("p", "same")
	require.Error(t, err, "an exhausted random source is an error")
	assert.NotErrorIs(t, err, ErrInvalid)
}

func TestMissingToken(t *testing.T) {
	s, _ := newTestSealer(t)
	require.ErrorIs(t, s.Decrypt("p", "", nil), ErrMissing)
	require.ErrorIs(t, s.Verify("p", "", nil), ErrMissing)
}

func TestErrorsHoldNoSecrets(t *testing.T) {
	secret := "s3cr3t-plaintext-value"
	s, clock := newTestSealer(t)
	enc, err := s.Encrypt("purpose-salt", secret, MaxAge(time.Second))
	require.NoError(t, err)
	sig, err := s.Sign("purpose-salt", secret, MaxAge(time.Second))
	require.NoError(t, err)
	var n int
	var errs []error
	errs = append(errs, s.Decrypt("purpose-salt", enc, &n), s.Verify("purpose-salt", sig, &n))
	clock.Set(epoch.Add(time.Hour))
	errs = append(errs, s.Decrypt("purpose-salt", enc, &n), s.Verify("purpose-salt", sig, &n),
		s.Decrypt("other", enc, &n), s.Decrypt("purpose-salt", enc[:len(enc)-3], &n),
		s.Verify("purpose-salt", sig[:len(sig)-3], &n))
	_, err = s.Encrypt("p", make(chan int))
	errs = append(errs, err)
	_, err = New(testKeyBase[:20])
	errs = append(errs, err)
	for _, err := range errs {
		require.Error(t, err)
		msg := err.Error()
		assert.True(t, strings.HasPrefix(msg, "seal: "), msg)
		for _, leak := range []string{secret, "purpose-salt", string(testKeyBase), string(testKeyBase[:20]), enc[4:20], sig[8:20]} {
			assert.NotContains(t, msg, leak)
		}
	}
}

// TestEncodeErrors checks that sealing a value etf cannot encode keeps
// etf's detail (the Go type, the float) next to its sentinel: the value is
// the caller's own, and "etf: unsupported" alone names nothing to fix.
func TestEncodeErrors(t *testing.T) {
	s, _ := newTestSealer(t)
	type withChan struct {
		Name string
		Jobs chan int
	}
	tests := []struct {
		name string
		seal func() (string, error)
		want error
		say  string
	}{
		{"encrypt a chan field", func() (string, error) { return s.Encrypt("p", withChan{Name: "x"}) }, etf.ErrUnsupported, "chan int"},
		{"sign a func", func() (string, error) { return s.Sign("p", func() {}) }, etf.ErrUnsupported, "func()"},
		{"encrypt NaN", func() (string, error) { return s.Encrypt("p", map[string]float64{"x": math.NaN()}) }, etf.ErrType, "NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.seal()
			require.ErrorIs(t, err, tt.want)
			assert.False(t, errors.Is(err, ErrInvalid))
			assert.Contains(t, err.Error(), tt.say)
			assert.True(t, strings.HasPrefix(err.Error(), "seal: encoding data: etf: "), err.Error())
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	// ChaCha8 is not safe for concurrent use: the Sealer must serialize it.
	s, _ := newTestSealer(t, PreviousKeyBases(oldKeyBase), KeyCacheSize(4), WithRand(mrand.NewChaCha8([32]byte{1})))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				salt := string(rune('a' + (g+i)%6)) // more salts than cache slots
				in := session{User: salt, ID: int64(i), Roles: []string{"r"}}
				tok, err := s.Encrypt(salt, in)
				if !assert.NoError(t, err) {
					return
				}
				var out session
				assert.NoError(t, s.Decrypt(salt, tok, &out))
				assert.Equal(t, in, out)
				sig, err := s.Sign(salt, in)
				assert.NoError(t, err)
				assert.NoError(t, s.Verify(salt, sig, &out))
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, s.keys.len(), 4)
}
