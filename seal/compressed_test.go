package seal

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/seal/etf"
)

// zlibStream returns the zlib stream of b.
func zlibStream(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// compressedPayload returns 131, 80, declared and stream.
func compressedPayload(declared uint32, stream []byte) []byte {
	return append(binary.BigEndian.AppendUint32([]byte{131, 80}, declared), stream...)
}

// TestCompressedOption seals and signs with Compressed: a large, repetitive
// term travels compressed (tag 80) and opens to the same data, typed and
// into any; a small one is left as it is, as Erlang does, so its signed
// token is the very token made without the option.
func TestCompressedOption(t *testing.T) {
	s, _ := newTestSealer(t)
	big := session{User: strings.Repeat("ab", 4000), ID: 7, Roles: []string{"admin", "admin", "admin"}}
	small := session{User: "u", ID: 1, Roles: []string{"r"}}
	for _, tt := range []struct {
		name       string
		data       session
		compressed bool
	}{{"large", big, true}, {"small", small, false}} {
		t.Run(tt.name, func(t *testing.T) {
			plainTok, err := s.Encrypt("p", tt.data)
			require.NoError(t, err)
			tok, err := s.Encrypt("p", tt.data, Compressed())
			require.NoError(t, err)
			payload, err := s.openEncrypted("p", tok, new([]byte))
			require.NoError(t, err)
			require.Equal(t, tt.compressed, payload[1] == 80, "payload tag %d", payload[1])
			if tt.compressed {
				assert.Less(t, len(tok), len(plainTok)/4)
			}
			var got session
			require.NoError(t, s.Decrypt("p", tok, &got))
			require.Equal(t, tt.data, got)

			signed, err := s.Sign("p", tt.data, Compressed())
			require.NoError(t, err)
			unsigned, err := s.Sign("p", tt.data)
			require.NoError(t, err)
			require.Equal(t, !tt.compressed, signed == unsigned)
			var viaSign, viaPlain any
			require.NoError(t, s.Verify("p", signed, &viaSign))
			require.NoError(t, s.Verify("p", unsigned, &viaPlain))
			require.Equal(t, viaPlain, viaSign)
		})
	}
}

// TestCompressedHostileTokens opens authentic tokens (valid MAC) whose
// payload is a hostile compressed or local term: every one is refused with
// ErrInvalid wrapping an *etf.TagError that names the tag and says
// "compressed" or "local", leaves the destination untouched, and costs
// well under 2 s and about etf.MaxInflatedSize of memory at most.
func TestCompressedHostileTokens(t *testing.T) {
	s, clock := newTestSealer(t)
	now := clock.Now().UnixMilli()
	tuple := func(data any) []byte {
		b, err := etf.Marshal(etf.Tuple{data, now, int64(60)})
		require.NoError(t, err)
		return b[1:]
	}
	term := tuple(strings.Repeat("z", 5000))
	stream := zlibStream(t, term)
	bomb := zlibStream(t, tuple(string(make([]byte, 16<<20))))
	local := []byte{121, 0x12, 0x34, 0x56, 0x78, 0x61, 0x01}
	nestedLocal := append([]byte{131, 104, 3}, local...)
	nestedLocal = append(nestedLocal, tuple(1)[3:]...) // signed_at and max_age of a 3-tuple
	inner := compressedPayload(uint32(len(term)), stream)[1:]
	tests := []struct {
		name    string
		payload []byte
		word    string
		tag     byte
	}{
		{"declared size too small", compressedPayload(uint32(len(term)-1), stream), "compressed", 80},
		{"declared size too large", compressedPayload(uint32(len(term)+1), stream), "compressed", 80},
		{"zlib bomb declaring 1 GiB", compressedPayload(1<<30, bomb), "compressed", 80},
		{"16 MiB term declared honestly", compressedPayload(16<<20+24, bomb), "compressed", 80},
		{"16 MiB stream declaring 1 MiB", compressedPayload(etf.MaxInflatedSize, bomb), "compressed", 80},
		{"truncated stream", compressedPayload(uint32(len(term)), stream[:len(stream)-9]), "compressed", 80},
		{"garbage stream", compressedPayload(uint32(len(term)), []byte("garbage, not zlib")), "compressed", 80},
		{"compressed inside compressed", compressedPayload(uint32(len(inner)), zlibStream(t, inner)), "compressed", 80},
		{"local term at the top", append([]byte{131}, local...), "local", 121},
		{"local term as the data", nestedLocal, "local", 121},
		{"local term inside a compressed payload", compressedPayload(uint32(len(nestedLocal)-1), zlibStream(t, nestedLocal[1:])), "local", 121},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for kind, tok := range map[string]string{"encrypt": sealRaw(t, s, "p", tt.payload), "sign": signRaw(t, s, "p", tt.payload)} {
				open := s.Decrypt
				if kind == "sign" {
					open = s.Verify
				}
				dst := session{User: "untouched"}
				var anyDst any = "untouched"
				start := time.Now()
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				err := open("p", tok, &dst)
				runtime.ReadMemStats(&after)
				assert.Less(t, time.Since(start), 2*time.Second)
				assert.LessOrEqual(t, after.TotalAlloc-before.TotalAlloc, uint64(etf.MaxInflatedSize+256<<10), "bytes allocated")
				require.ErrorIs(t, err, ErrInvalid, kind)
				require.ErrorIs(t, open("p", tok, &anyDst), ErrInvalid, kind)
				te, ok := errors.AsType[*etf.TagError](err)
				require.True(t, ok, "%s: %v wraps an *etf.TagError", kind, err)
				require.Equal(t, tt.tag, te.Tag)
				require.Contains(t, err.Error(), tt.word)
				require.Equal(t, session{User: "untouched"}, dst)
				require.Equal(t, any("untouched"), anyDst)
			}
		})
	}
}
