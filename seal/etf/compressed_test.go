package etf_test

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

// deflate returns the zlib stream of b.
func deflate(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	require.NoError(t, err)
	_, err = zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// compressedTerm returns 131, 80, declared (big-endian) and stream.
func compressedTerm(declared uint32, stream []byte) []byte {
	out := binary.BigEndian.AppendUint32([]byte{131, 80}, declared)
	return append(out, stream...)
}

// binaryTerm returns the ETF of a binary of n zero bytes, without the
// version byte.
func binaryTerm(n int) []byte {
	out := binary.BigEndian.AppendUint32([]byte{109}, uint32(n))
	return append(out, make([]byte, n)...)
}

// TestCompressRoundTrip compresses terms as term_to_binary(T, [compressed])
// does: only when that is shorter, and always back to the same bytes.
func TestCompressRoundTrip(t *testing.T) {
	tests := []struct {
		name       string
		v          any
		compressed bool
	}{
		{"small int", 42, false},
		{"short binary", "hello", false},
		{"1 KiB of zeros", string(make([]byte, 1024)), true},
		{"100 KB of zeros", string(make([]byte, 100_000)), true},
		{"repeated struct fields", []map[string]any{{"name": "a", "at": time.Unix(0, 0)}, {"name": "b", "at": time.Unix(0, 0)}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain, err := etf.Marshal(tt.v)
			require.NoError(t, err)
			c := etf.Compress(plain)
			if !tt.compressed {
				require.Equal(t, plain, c, "not shorter compressed: left as it is")
				return
			}
			require.Less(t, len(c), len(plain))
			require.Equal(t, []byte{131, 80}, c[:2])
			require.Equal(t, uint32(len(plain)-1), binary.BigEndian.Uint32(c[2:6]))
			back, err := etf.Decompress(c)
			require.NoError(t, err)
			require.Equal(t, plain, back)
			var want, got any
			require.NoError(t, etf.Unmarshal(plain, &want))
			require.NoError(t, etf.Unmarshal(c, &got))
			require.Equal(t, want, got)
			require.Equal(t, c, etf.Compress(c), "a compressed term stays as it is")
		})
	}
	huge := append([]byte{131}, binaryTerm(etf.MaxInflatedSize)...)
	require.Equal(t, huge, etf.Compress(huge), "a term above the cap stays uncompressed")
	require.Equal(t, []byte{131, 97, 1}, etf.Compress([]byte{131, 97, 1}))
}

// TestUnmarshalCompressedTuple splits a compressed tuple with TupleElements
// and decodes one into a struct.
func TestUnmarshalCompressedTuple(t *testing.T) {
	type rec struct {
		Name string
		Data string
	}
	data := strings.Repeat("x", 2000)
	plain, err := etf.Marshal(etf.Tuple{rec{Name: "a", Data: data}, int64(7)})
	require.NoError(t, err)
	c := etf.Compress(plain)
	require.Equal(t, byte(80), c[1])
	parts, err := etf.TupleElements(c)
	require.NoError(t, err)
	require.Len(t, parts, 2)
	var got rec
	require.NoError(t, etf.UnmarshalRaw(parts[0], &got))
	require.Equal(t, rec{Name: "a", Data: data}, got)
	var typed []etf.RawTerm
	require.NoError(t, etf.Unmarshal(c, &typed))
	require.Equal(t, parts[1], typed[1])
}

// hostileCompressed are compressed terms with a lie or a defect in them,
// each with the sentinel and a word of the message they must fail with.
func hostileCompressed(t testing.TB) []struct {
	name string
	in   []byte
	want error
	msg  string
} {
	small := append(binaryTerm(3), 0) // a term and a stray byte
	term := binaryTerm(1000)
	stream := deflate(t, term)
	big16 := deflate(t, binaryTerm(16<<20))
	trailing := append(deflate(t, term), "junk"...)
	inner := compressedTerm(uint32(len(term)), stream)[1:]
	nestedInList := append([]byte{131, 108, 0, 0, 0, 1}, compressedTerm(uint32(len(term)), stream)[1:]...)
	nestedInList = append(nestedInList, 106)
	return []struct {
		name string
		in   []byte
		want error
		msg  string
	}{
		{"declared size too small", compressedTerm(uint32(len(term)-1), stream), etf.ErrSyntax, "more than the 1004 declared"},
		{"declared size too large", compressedTerm(uint32(len(term)+1), stream), etf.ErrSyntax, "ends before the 1006 declared"},
		{"declared size zero", compressedTerm(0, stream), etf.ErrSyntax, "more than the 0 declared"},
		{"bomb declaring 1 GiB", compressedTerm(1<<30, big16), etf.ErrLimit, "above the cap"},
		{"declaring the cap plus one", compressedTerm(etf.MaxInflatedSize+1, big16), etf.ErrLimit, "above the cap"},
		{"16 MiB stream declaring 1 MiB", compressedTerm(etf.MaxInflatedSize, big16), etf.ErrSyntax, "more than the 1048576 declared"},
		{"16 MiB stream declaring 16 MiB", compressedTerm(16<<20+5, big16), etf.ErrLimit, "above the cap"},
		{"truncated stream", compressedTerm(uint32(len(term)), stream[:len(stream)/2]), etf.ErrSyntax, "ends before"},
		{"stream without its checksum", compressedTerm(uint32(len(term)), stream[:len(stream)-4]), etf.ErrSyntax, "corrupt"},
		{"bad checksum", compressedTerm(uint32(len(term)), append(stream[:len(stream)-1:len(stream)-1], stream[len(stream)-1]^1)), etf.ErrSyntax, "corrupt"},
		{"garbage stream", compressedTerm(10, []byte("not a zlib stream at all")), etf.ErrSyntax, "zlib"},
		{"garbage after a zlib header", compressedTerm(10, []byte{0x78, 0x9c, 0xff, 0xff, 0xff, 0xff}), etf.ErrSyntax, "zlib"},
		{"empty stream", compressedTerm(10, nil), etf.ErrSyntax, "zlib"},
		{"no size", []byte{131, 80, 0, 0}, etf.ErrSyntax, "size"},
		{"bytes after the stream", compressedTerm(uint32(len(term)), trailing), etf.ErrSyntax, "4 bytes after the zlib stream"},
		{"inflates to a term and a stray byte", compressedTerm(uint32(len(small)), deflate(t, small)), etf.ErrSyntax, "trailing"},
		{"compressed inside compressed", compressedTerm(uint32(len(inner)), deflate(t, inner)), etf.ErrSyntax, "compressed term inside"},
		{"compressed inside a list", nestedInList, etf.ErrSyntax, "compressed term inside another term"},
		{"local term", []byte{131, 121, 1, 2, 3, 4, 97, 1}, etf.ErrUnsupported, "local term can only be decoded by the Erlang VM that made it"},
		{"local term inside a compressed term", compressedTerm(6, deflate(t, []byte{121, 1, 2, 3, 4, 106})), etf.ErrUnsupported, "local"},
		{"local term in a map", []byte{131, 116, 0, 0, 0, 1, 97, 1, 121, 0, 0, 0, 0}, etf.ErrUnsupported, "local"},
	}
}

// TestCompressedHostile feeds every hostile compressed term to every
// decoding entry point: each fails with a *TagError naming its tag and
// the sentinel, leaves the destination as it was, and costs at most about
// MaxInflatedSize of memory and well under the 2 s budget.
func TestCompressedHostile(t *testing.T) {
	for _, tc := range hostileCompressed(t) {
		t.Run(tc.name, func(t *testing.T) {
			type dest struct {
				Name string
				Data []byte
			}
			anyDst := any("untouched")
			structDst := dest{Name: "untouched"}
			rawDst := etf.RawTerm("untouched")
			for _, dst := range []any{&anyDst, &rawDst} {
				checkTagError(t, etf.Unmarshal(tc.in, dst), tc.want, tc.msg)
			}
			require.Error(t, etf.Unmarshal(tc.in, &structDst))
			require.Equal(t, any("untouched"), anyDst)
			require.Equal(t, dest{Name: "untouched"}, structDst)
			require.Equal(t, etf.RawTerm("untouched"), rawDst)
			_, err := etf.TupleElements(tc.in)
			require.Error(t, err)
			if tc.in[1] == 80 {
				_, err := etf.Decompress(tc.in)
				if err != nil { // the defect may lie in the inflated term itself
					checkTagError(t, err, tc.want, tc.msg)
				}
			}

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			var v any
			require.Error(t, etf.Unmarshal(tc.in, &v))
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			assert.Less(t, elapsed, 2*time.Second)
			assert.LessOrEqual(t, after.TotalAlloc-before.TotalAlloc, uint64(etf.MaxInflatedSize+256<<10), "bytes allocated")
		})
	}
}

// checkTagError requires err to wrap want with msg in its text and, for a
// defect of the tag itself, to be a *TagError.
func checkTagError(t *testing.T, err, want error, msg string) {
	t.Helper()
	require.ErrorIs(t, err, want)
	require.Contains(t, err.Error(), msg)
	if strings.Contains(msg, "trailing") {
		return
	}
	var te *etf.TagError
	require.True(t, errors.As(err, &te), "%v is a *TagError", err)
	require.Contains(t, []byte{80, 121}, te.Tag)
	if te.Tag == 80 {
		require.Contains(t, err.Error(), "compressed")
	} else {
		require.Contains(t, err.Error(), "local")
	}
}
