package seal

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/seal/etf"
)

// fuzzSealer opens the interop vectors made with the default key options.
func fuzzSealer(t testing.TB) (*Sealer, []vector) {
	t.Helper()
	var vs []vector
	for _, v := range loadVectors(t) {
		if v.KeyIterations == 1000 && v.KeyLength == 32 && v.KeyDigest == "sha256" && v.Salt == "livebook" && v.Token != "" {
			vs = append(vs, v)
		}
	}
	require.NotEmpty(t, vs)
	now := time.UnixMilli(vs[0].NowMs)
	s, err := New([]byte(vs[0].KeyBase), WithClock(func() time.Time { return now }))
	require.NoError(t, err)
	return s, vs
}

// checkOpenError fails unless err is nil or one of the three opening errors,
// and dst was left alone on error.
func checkOpenError(t *testing.T, err error, dst any) {
	if err == nil {
		return
	}
	if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrExpired) && !errors.Is(err, ErrMissing) {
		t.Fatalf("unexpected error %v", err)
	}
	if dst != nil {
		t.Fatalf("dst set to %v despite %v", dst, err)
	}
}

func FuzzDecrypt(f *testing.F) {
	s, vs := fuzzSealer(f)
	for _, v := range vs {
		if v.Kind == "encrypt" && len(v.Token) < 1024 {
			f.Add(v.Token)
		}
	}
	f.Add("")
	f.Add("XCP.")
	f.Add("QTEyOEdDTQ....")
	f.Fuzz(func(t *testing.T, token string) {
		var v any
		checkOpenError(t, s.Decrypt("livebook", token, &v), v)
	})
}

func FuzzVerify(f *testing.F) {
	s, vs := fuzzSealer(f)
	for _, v := range vs {
		if v.Kind == "sign" && len(v.Token) < 1024 {
			f.Add(v.Token)
		}
	}
	f.Add("")
	f.Add("SFMyNTY..")
	f.Add("SFM1MTI.g2gDYQFhAmED.")
	f.Fuzz(func(t *testing.T, token string) {
		var v any
		checkOpenError(t, s.Verify("livebook", token, &v), v)
	})
}

// TestAllocationBoundedByTokenLength checks that opening allocates in
// proportion to the token actually given, whatever sizes it claims.
func TestAllocationBoundedByTokenLength(t *testing.T) {
	s, _ := newTestSealer(t)
	body := strings.Repeat("A", DefaultMaxTokenSize-64)
	tokens := map[string]string{
		"xcp":          "XCP." + body,
		"legacy":       "QTEyOEdDTQ." + body[:100] + "." + body[:16] + "." + body[:1000] + "." + body[:22],
		"signed":       "SFMyNTY." + body + ".AAAA",
		"signed huge":  "SFMyNTY.AAAA." + body,
		"legacy parts": "QTEyOEdDTQ." + strings.Repeat("A.", 20000),
	}
	for name, tok := range tokens {
		t.Run(name, func(t *testing.T) {
			open := s.Decrypt
			if strings.HasPrefix(tok, "SFM") {
				open = s.Verify
			}
			require.ErrorIs(t, open("p", tok, nil), ErrInvalid) // warm the key cache
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			const runs = 20
			for range runs {
				require.ErrorIs(t, open("p", tok, nil), ErrInvalid)
			}
			runtime.ReadMemStats(&after)
			perRun := (after.TotalAlloc - before.TotalAlloc) / runs
			assert.LessOrEqual(t, perRun, uint64(2*len(tok)+4096), "bytes allocated per opening")
		})
	}
}

// FuzzPayload seals arbitrary payload bytes with the real key, as a peer
// holding the key base could, so the fuzzer reaches the payload decoding and
// expiry checks behind the cipher: they must never panic either.
func FuzzPayload(f *testing.F) {
	s, vs := fuzzSealer(f)
	for _, v := range vs {
		if v.Kind == "encrypt" && v.Expect == "ok" && len(v.Token) < 1024 {
			payload, err := s.openEncrypted(v.Salt, v.Token, new([]byte))
			require.NoError(f, err)
			f.Add(payload)
		}
	}
	// Payloads an OTP 25 app writes: nil as ATOM_EXT, pids, future times.
	otp25 := loadOTP25Tokens(f)
	s25, err := New([]byte(otp25.KeyBase))
	require.NoError(f, err)
	for _, tok := range otp25.Tokens {
		if tok.Kind == "encrypt" && (!strings.HasPrefix(tok.Name, "future/") || strings.Contains(tok.Name, "/1s-ahead/skew-0ms")) {
			payload, err := s25.openEncrypted(otp25.Salt, tok.Token, new([]byte))
			require.NoError(f, err)
			f.Add(payload)
		}
	}
	// A DateTime in the data.
	withTime, err := etf.Marshal(etf.Tuple{map[string]any{"at": time.UnixMicro(vs[0].NowMs * 1000)}, vs[0].NowMs, int64(60)})
	require.NoError(f, err)
	f.Add(withTime)
	f.Fuzz(func(t *testing.T, payload []byte) {
		tok := sealRaw(t, s, "livebook", payload)
		var v any
		checkOpenError(t, s.Decrypt("livebook", tok, &v), v)
		var st session
		err := s.Decrypt("livebook", tok, &st)
		if err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrExpired) {
			t.Fatalf("unexpected error %v", err)
		}
		var at struct{ At *time.Time }
		err = s.Decrypt("livebook", tok, &at)
		if err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrExpired) {
			t.Fatalf("unexpected error %v", err)
		}
		sig := signRaw(t, s, "livebook", payload)
		var w any
		checkOpenError(t, s.Verify("livebook", sig, &w), w)
	})
}

// FuzzCompressedPayload seals a compressed payload (131, 80, declared
// size, arbitrary stream) with the real key, as a peer holding the key base
// could: opening never panics, answers only the opening errors, leaves dst
// alone on error, and opens exactly the payloads whose stream inflates to a
// token payload of the declared size. Seeds: the vector payloads
// compressed, honestly and with a lying size.
func FuzzCompressedPayload(f *testing.F) {
	s, vs := fuzzSealer(f)
	for _, v := range vs {
		if v.Kind == "encrypt" && v.Expect == "ok" && len(v.Token) < 1024 {
			payload, err := s.openEncrypted(v.Salt, v.Token, new([]byte))
			require.NoError(f, err)
			stream := zlibStream(f, payload[1:])
			f.Add(uint32(len(payload)-1), stream)
			f.Add(uint32(len(payload)), stream)
		}
	}
	f.Add(uint32(1<<30), zlibStream(f, make([]byte, 1<<16)))
	f.Fuzz(func(t *testing.T, declared uint32, stream []byte) {
		payload := compressedPayload(declared, stream)
		var v any
		err := s.Decrypt("livebook", sealRaw(t, s, "livebook", payload), &v)
		checkOpenError(t, err, v)
		if _, errZ := etf.Decompress(payload); errZ != nil {
			require.ErrorIs(t, err, ErrInvalid)
			require.Contains(t, err.Error(), "compressed")
		}
		var w any
		checkOpenError(t, s.Verify("livebook", signRaw(t, s, "livebook", payload), &w), w)
	})
}
