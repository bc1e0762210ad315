package seal

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"hash"
	"strings"
	"sync"
	"testing"
	"time"

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

// fakeClock is a settable clock for expiry tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func newTestSealer(t testing.TB, opts ...Option) (*Sealer, *fakeClock) {
	t.Helper()
	clock := &fakeClock{now: epoch}
	s, err := New(testKeyBase, append([]Option{WithClock(clock.Now)}, opts...)...)
	require.NoError(t, err)
	return s, clock
}

type session struct {
	User  string   `etf:"user"`
	ID    int64    `etf:"id"`
	Roles []string `etf:"roles"`
}

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
		{"nil option", testKeyBase, []Option{nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.keyBase, tt.opts...)
			require.ErrorIs(t, err, ErrOption)
			assert.Nil(t, s)
		})
	}
	t.Run("all valid", func(t *testing.T) {
		s, err := New(testKeyBase, KeyIterations(2000), KeyLength(64), KeyDigest(crypto.SHA512),
			WithClock(time.Now), WithRand(bytes.NewReader(make([]byte, 1024))), PreviousKeyBases(oldKeyBase),
			MaxTokenSize(1<<20), DefaultTokenMaxAge(time.Hour), KeyCacheSize(8))
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

func TestDestinationMustBePointer(t *testing.T) {
	s, _ := newTestSealer(t)
	tok, err := s.Encrypt("p", "v")
	require.NoError(t, err)
	var str string
	require.ErrorIs(t, s.Decrypt("p", tok, str), ErrOption)
	var nilPtr *string
	require.ErrorIs(t, s.Decrypt("p", tok, nilPtr), ErrOption)
	require.ErrorIs(t, s.Verify("p", tok, str), ErrOption)
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
			require.ErrorIs(t, err, ErrOption)
			_, err = s.Sign("p", "v", opt)
			require.ErrorIs(t, err, ErrOption)
		})
	}
	tok, err := s.Encrypt("p", "v")
	require.NoError(t, err)
	var got string
	require.ErrorIs(t, s.Decrypt("p", tok, &got, MaxAge(-time.Second)), ErrOption)
	require.ErrorIs(t, s.Decrypt("p", tok, &got, TokenOption{}), ErrOption)
	require.NoError(t, s.Decrypt("p", tok, &got, MaxAge(1500*time.Millisecond)), "sub-second max age is fine when opening")
}

func TestEncryptNeeds32ByteKey(t *testing.T) {
	s, err := New(testKeyBase, KeyLength(64))
	require.NoError(t, err)
	_, err = s.Encrypt("p", "v")
	require.ErrorIs(t, err, ErrOption)
	tok, err := s.Sign("p", "v")
	require.NoError(t, err, "signing takes any key length")
	require.NoError(t, s.Verify("p", tok, nil))

	s32, err := New(testKeyBase)
	require.NoError(t, err)
	enc, err := s32.Encrypt("p", "v")
	require.NoError(t, err)
	require.ErrorIs(t, s.Decrypt("p", enc, nil), ErrInvalid)
}

func TestRotation(t *testing.T) {
	oldS, _ := newTestSealer(t)
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

func TestMaxAge(t *testing.T) {
	type step struct {
		after time.Duration // clock advance since signing
		open  []TokenOption
		want  error
	}
	tests := []struct {
		name string
		seal []TokenOption
		def  []Option
		at   []step
	}{
		{"default one day", nil, nil, []step{
			{24 * time.Hour, nil, nil},
			{24*time.Hour + time.Millisecond, nil, ErrExpired},
		}},
		{"embedded", []TokenOption{MaxAge(time.Minute)}, nil, []step{
			{0, nil, nil},
			{time.Minute, nil, nil},
			{time.Minute + time.Millisecond, nil, ErrExpired},
		}},
		{"override longer", []TokenOption{MaxAge(time.Minute)}, nil, []step{
			{time.Hour, []TokenOption{MaxAge(2 * time.Hour)}, nil},
			{3 * time.Hour, []TokenOption{MaxAge(2 * time.Hour)}, ErrExpired},
		}},
		{"override shorter", []TokenOption{MaxAge(time.Hour)}, nil, []step{
			{10 * time.Second, []TokenOption{MaxAge(10 * time.Second)}, nil},
			{11 * time.Second, []TokenOption{MaxAge(10 * time.Second)}, ErrExpired},
			{11 * time.Second, nil, nil},
		}},
		{"override sub-second", []TokenOption{MaxAge(time.Hour)}, nil, []step{
			{1500 * time.Millisecond, []TokenOption{MaxAge(1500 * time.Millisecond)}, nil},
			{1501 * time.Millisecond, []TokenOption{MaxAge(1500 * time.Millisecond)}, ErrExpired},
		}},
		{"zero on opening", nil, nil, []step{
			{0, []TokenOption{MaxAge(0)}, ErrExpired},
		}},
		{"zero embedded", []TokenOption{MaxAge(0)}, nil, []step{
			{0, nil, ErrExpired},
			{0, []TokenOption{MaxAge(time.Second)}, nil},
		}},
		{"infinity embedded", []TokenOption{NoMaxAge()}, nil, []step{
			{100 * 365 * 24 * time.Hour, nil, nil},
			{2 * time.Hour, []TokenOption{MaxAge(time.Hour)}, ErrExpired},
		}},
		{"infinity on opening", []TokenOption{MaxAge(time.Second)}, nil, []step{
			{time.Hour, []TokenOption{NoMaxAge()}, nil},
			{time.Hour, nil, ErrExpired},
		}},
		{"sealer default", nil, []Option{DefaultTokenMaxAge(time.Minute)}, []step{
			{time.Minute, nil, nil},
			{time.Minute + time.Millisecond, nil, ErrExpired},
		}},
		{"last option wins", []TokenOption{NoMaxAge(), MaxAge(time.Second)}, nil, []step{
			{2 * time.Second, nil, ErrExpired},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clock := newTestSealer(t, tt.def...)
			enc, err := s.Encrypt("p", "v", tt.seal...)
			require.NoError(t, err)
			sig, err := s.Sign("p", "v", tt.seal...)
			require.NoError(t, err)
			for _, st := range tt.at {
				clock.Set(epoch.Add(st.after))
				for name, open := range map[string]func() error{
					"decrypt": func() error { var v string; return s.Decrypt("p", enc, &v, st.open...) },
					"verify":  func() error { var v string; return s.Verify("p", sig, &v, st.open...) },
				} {
					err := open()
					if st.want == nil {
						assert.NoError(t, err, "%s after %v", name, st.after)
					} else {
						assert.ErrorIs(t, err, st.want, "%s after %v", name, st.after)
					}
				}
			}
		})
	}
}

func TestClockSkew(t *testing.T) {
	s, clock := newTestSealer(t)
	tests := []struct {
		name     string
		signedAt time.Time
		want     error
	}{
		{"now", epoch, nil},
		{"a second ago", epoch.Add(-time.Second), nil},
		{"a millisecond ahead", epoch.Add(time.Millisecond), ErrInvalid},
		{"a minute ahead", epoch.Add(time.Minute), ErrInvalid},
		{"sub-millisecond ahead truncates", epoch.Add(999 * time.Microsecond), nil},
		{"before 1970", time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), ErrExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Set(epoch)
			enc, err := s.Encrypt("p", "v", SignedAt(tt.signedAt))
			require.NoError(t, err)
			sig, err := s.Sign("p", "v", SignedAt(tt.signedAt))
			require.NoError(t, err)
			for _, err := range []error{s.Decrypt("p", enc, nil), s.Verify("p", sig, nil)} {
				if tt.want == nil {
					assert.NoError(t, err)
				} else {
					assert.ErrorIs(t, err, tt.want)
				}
			}
		})
	}
	t.Run("server clock moved back", func(t *testing.T) {
		clock.Set(epoch)
		tok, err := s.Encrypt("p", "v")
		require.NoError(t, err)
		clock.Set(epoch.Add(-time.Second))
		require.ErrorIs(t, s.Decrypt("p", tok, nil), ErrInvalid)
		clock.Set(epoch)
		require.NoError(t, s.Decrypt("p", tok, nil))
	})
}

func TestMaxTokenSize(t *testing.T) {
	s, _ := newTestSealer(t, MaxTokenSize(256))
	small, err := s.Encrypt("p", strings.Repeat("a", 50))
	require.NoError(t, err)
	require.NoError(t, s.Decrypt("p", small, nil))
	big, err := s.Encrypt("p", strings.Repeat("a", 500))
	require.NoError(t, err, "sealing is not limited")
	err = s.Decrypt("p", big, nil)
	require.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), "too long")
	sig, err := s.Sign("p", strings.Repeat("a", 500))
	require.NoError(t, err)
	require.ErrorIs(t, s.Verify("p", sig, nil), ErrInvalid)

	// The limit applies before decoding: an over-long token of garbage is
	// rejected for its length, not for its base64.
	junk := "XCP." + strings.Repeat("*", 300)
	err = s.Decrypt("p", junk, nil)
	require.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), "too long")

	def, _ := newTestSealer(t)
	huge, err := def.Encrypt("p", strings.Repeat("a", DefaultMaxTokenSize))
	require.NoError(t, err)
	require.ErrorIs(t, def.Decrypt("p", huge, nil), ErrInvalid, "default limit is 64 KiB")
}

func TestMissingToken(t *testing.T) {
	s, _ := newTestSealer(t)
	require.ErrorIs(t, s.Decrypt("p", "", nil), ErrMissing)
	require.ErrorIs(t, s.Verify("p", "", nil), ErrMissing)
}

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

func TestEncodeErrors(t *testing.T) {
	s, _ := newTestSealer(t)
	_, err := s.Encrypt("p", make(chan int))
	require.ErrorIs(t, err, etf.ErrUnsupported)
	assert.False(t, errors.Is(err, ErrInvalid))
	_, err = s.Sign("p", func() {})
	require.Error(t, err)
}

func TestConcurrentUse(t *testing.T) {
	s, _ := newTestSealer(t, PreviousKeyBases(oldKeyBase), KeyCacheSize(4))
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
