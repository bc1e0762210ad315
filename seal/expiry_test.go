package seal

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
	tests := []struct {
		name     string
		skew     time.Duration
		signedAt time.Time
		open     []TokenOption
		want     error
	}{
		{"now", 0, epoch, nil, nil},
		{"a second ago", 0, epoch.Add(-time.Second), nil, nil},
		{"a millisecond ahead", 0, epoch.Add(time.Millisecond), nil, ErrInvalid},
		{"a minute ahead", 0, epoch.Add(time.Minute), nil, ErrInvalid},
		{"sub-millisecond ahead truncates", 0, epoch.Add(999 * time.Microsecond), nil, nil},
		{"before 1970", 0, time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), nil, ErrExpired},
		{"ahead, no max age", 0, epoch.Add(time.Minute), []TokenOption{NoMaxAge()}, nil},
		{"ahead, max age zero", 0, epoch.Add(time.Minute), []TokenOption{MaxAge(0)}, ErrExpired},
		{"ahead within skew", time.Second, epoch.Add(time.Second), nil, nil},
		{"ahead beyond skew", time.Second, epoch.Add(time.Second + time.Millisecond), nil, ErrInvalid},
		{"skew counts whole milliseconds", 1999 * time.Microsecond, epoch.Add(2 * time.Millisecond), nil, ErrInvalid},
		{"skew does not extend the max age", time.Hour, epoch.Add(-2 * time.Second), []TokenOption{MaxAge(time.Second)}, ErrExpired},
		{"longest skew", time.Duration(math.MaxInt64), epoch.Add(290 * 365 * 24 * time.Hour), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clock := newTestSealer(t, ClockSkew(tt.skew))
			clock.Set(epoch)
			enc, err := s.Encrypt("p", "v", SignedAt(tt.signedAt))
			require.NoError(t, err)
			sig, err := s.Sign("p", "v", SignedAt(tt.signedAt))
			require.NoError(t, err)
			for _, err := range []error{s.Decrypt("p", enc, nil, tt.open...), s.Verify("p", sig, nil, tt.open...)} {
				if tt.want == nil {
					assert.NoError(t, err)
				} else {
					assert.ErrorIs(t, err, tt.want)
				}
			}
		})
	}
	t.Run("server clock moved back", func(t *testing.T) {
		s, clock := newTestSealer(t)
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
