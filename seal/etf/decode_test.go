package etf_test

import (
	"encoding/hex"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/seal/etf"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	require.NoError(t, err)
	return b
}

func TestUnmarshalAny(t *testing.T) {
	tests := []struct {
		name  string
		hex   string // without the leading 83
		want  any
		canon string // what Marshal writes back, when not the input
	}{
		{"small int", "612a", int64(42), ""},
		{"integer", "62ffffff9c", int64(-100), ""},
		{"small big", "6e0400000000" + "80", int64(1) << 31, ""},
		{"small big beyond int64", "6e09000000000000000000" + "01", mustBig("18446744073709551616"), ""},
		{"small big int64 min", "6e08010000000000000080", int64(math.MinInt64), ""},
		{"small big -2^63-1", "6e08010100000000000080", mustBig("-9223372036854775809"), ""},
		{"big non-minimal", "6e0300050000", int64(5), "6105"},
		{"big sign 2 is negative", "6e010205", int64(-5), "62fffffffb"},
		{"large big", "6f00000001000a", int64(10), "610a"},
		{"new float", "463ff8000000000000", 1.5, ""},
		{"old float", "63" + hex.EncodeToString([]byte("1.50000000000000000000e+00\x00\x00\x00\x00\x00")), 1.5, "463ff8000000000000"},
		{"atom utf8", "770668c3a96c6c6f", etf.Atom("héllo"), ""},
		{"atom latin1", "640005" + "68e96c6c6f", etf.Atom("héllo"), "770668c3a96c6c6f"},
		{"small atom latin1", "7305" + "68e96c6c6f", etf.Atom("héllo"), "770668c3a96c6c6f"},
		{"long utf8 atom", "760004" + "6c6f6e67", etf.Atom("long"), "77046c6f6e67"},
		{"true", "770474727565", true, ""},
		{"false latin1", "64000566616c7365", false, "770566616c7365"},
		{"nil", "77036e696c", nil, ""},
		{"binary", "6d00000002ff00", "\xff\x00", ""},
		{"bitstring", "4d0000000103e0", etf.Bitstring{Bytes: []byte{0xe0}, TailBits: 3}, ""},
		{"bitstring unused bits cleared", "4d0000000103ff", etf.Bitstring{Bytes: []byte{0xe0}, TailBits: 3}, "4d0000000103e0"},
		{"bitstring of whole bytes", "4d000000010801", "\x01", "6d0000000101"},
		{"empty bitstring", "4d0000000000", "", "6d00000000"},
		{"nil list", "6a", []any{}, ""},
		{"string ext", "6b00020102", []any{int64(1), int64(2)}, ""},
		{"list", "6c000000026101770161" + "6a", []any{int64(1), etf.Atom("a")}, ""},
		{"list of bytes", "6c0000000161016a", []any{int64(1)}, "6b000101"},
		{"improper", "6c00000001610177016" + "1", etf.ImproperList{Elems: []any{int64(1)}, Tail: etf.Atom("a")}, ""},
		{"list tail spliced", "6c0000000161016c00000001770161" + "6a", []any{int64(1), etf.Atom("a")}, "6c000000026101770161" + "6a"},
		{"string tail spliced", "6c0000000161016b00010" + "2", []any{int64(1), int64(2)}, "6b00020102"},
		{"empty list ext", "6c00000000" + "6a", []any{}, "6a"},
		{"tuple", "680277026f6b6101", etf.Tuple{etf.Atom("ok"), int64(1)}, ""},
		{"large tuple", "6900000001" + "6101", etf.Tuple{int64(1)}, "68016101"},
		{"map", "74000000027701616101" + "6d000000016161" + "02", map[any]any{etf.Atom("a"): int64(1), "a": int64(2)}, ""},
		{"map with tuple key", "7400000001680161016102", etf.Map{{Key: etf.Tuple{int64(1)}, Value: int64(2)}}, ""},
		{"map with zero float keys", "740000000246000000000000000061014680000000000000006102",
			etf.Map{{Key: math.Copysign(0, -1), Value: int64(2)}, {Key: 0.0, Value: int64(1)}},
			"740000000246800000000000000061024600000000000000006101"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := unhex(t, "83"+tc.hex)
			var got any
			require.NoError(t, etf.Unmarshal(in, &got))
			assert.Equal(t, tc.want, got)
			out, err := etf.Marshal(got)
			require.NoError(t, err)
			want := tc.hex
			if tc.canon != "" {
				want = tc.canon
			}
			assert.Equal(t, "83"+want, hex.EncodeToString(out))
		})
	}
}

func TestUnmarshalErrors(t *testing.T) {
	deep := strings.Repeat("6c00000001", etf.MaxDepth+1) + "6a" + strings.Repeat("6a", etf.MaxDepth+1)
	tests := []struct {
		name string
		hex  string // the whole input
		want error
		msg  string
	}{
		{"empty", "", etf.ErrSyntax, ""},
		{"bad version", "8261", etf.ErrSyntax, "version"},
		{"version only", "83", etf.ErrSyntax, "end of input"},
		{"trailing", "83610161", etf.ErrSyntax, "trailing"},
		{"compressed, stream cut short", "835000000005789c", etf.ErrSyntax, "tag 80 (compressed term)"},
		{"compressed, no size", "835000", etf.ErrSyntax, "compressed"},
		{"local", "8379" + "00000000", etf.ErrUnsupported, "local term"},
		{"local in a list", "836c00000001" + "7900000000", etf.ErrUnsupported, "tag 121 (LOCAL_EXT)"},
		{"pid", "835800", etf.ErrUnsupported, "tag 88"},
		{"fun", "837000", etf.ErrUnsupported, "tag 112"},
		{"reference", "835a00", etf.ErrUnsupported, "tag 90"},
		{"port", "835900", etf.ErrUnsupported, "tag 89"},
		{"export", "837100", etf.ErrUnsupported, "tag 113"},
		{"unknown tag", "8301", etf.ErrUnsupported, "tag 1"},
		{"binary longer than input", "836dffffffff00", etf.ErrSyntax, "exceeds"},
		{"list longer than input", "836cffffffff", etf.ErrSyntax, "exceeds"},
		{"map longer than input", "8374ffffffff", etf.ErrSyntax, "exceeds"},
		{"tuple longer than input", "8369ffffffff", etf.ErrSyntax, "exceeds"},
		{"small tuple longer than input", "8368ff", etf.ErrSyntax, "end of input"},
		{"big longer than input", "836fffffffff00", etf.ErrSyntax, "exceeds"},
		{"NaN", "837ff8000000000000", etf.ErrUnsupported, "tag 127"},
		{"NaN float", "46" + "7ff8000000000001", etf.ErrSyntax, "version"},
		{"float NaN", "83467ff8000000000001", etf.ErrSyntax, "non-finite"},
		{"float Inf", "83467ff0000000000000", etf.ErrSyntax, "non-finite"},
		{"old float garbage", "8363" + strings.Repeat("78", 31), etf.ErrSyntax, "FLOAT_EXT"},
		{"atom invalid utf8", "837701ff", etf.ErrSyntax, "UTF-8"},
		{"latin1 atom too long", "836401" + "00" + strings.Repeat("61", 256), etf.ErrLimit, "255"},
		{"utf8 atom too long", "837601" + "00" + strings.Repeat("61", 256), etf.ErrLimit, "255"},
		{"bitstring zero bits", "834d0000000100ff", etf.ErrSyntax, "bits"},
		{"bitstring nine bits", "834d0000000109ff", etf.ErrSyntax, "bits"},
		{"empty bitstring with bits", "834d0000000003", etf.ErrSyntax, "bits"},
		{"duplicate keys", "83740000000261016101610161" + "02", etf.ErrSyntax, "duplicate"},
		{"duplicate tuple keys", "837400000002680161016101680161016102", etf.ErrSyntax, "duplicate"},
		{"too deep", "83" + deep, etf.ErrLimit, "nesting"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := unhex(t, tc.hex)
			var v any
			err := etf.Unmarshal(in, &v)
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), tc.msg)
			var raw etf.RawTerm
			require.Error(t, etf.Unmarshal(in, &raw), "RawTerm validation agrees")
		})
	}
}

func TestUnmarshalDepthLimitIsExact(t *testing.T) {
	ok := "83" + strings.Repeat("6c00000001", etf.MaxDepth) + "6a" + strings.Repeat("6a", etf.MaxDepth)
	var v any
	require.NoError(t, etf.Unmarshal(unhex(t, ok), &v))
	b, err := etf.Marshal(v)
	require.NoError(t, err, "what decodes also encodes")
	require.NotEmpty(t, b)
}

// TestTruncationsNeverPanic cuts every valid term at every offset: each
// prefix must fail with ErrSyntax, into any, RawTerm and a typed value.
func TestTruncationsNeverPanic(t *testing.T) {
	terms := vectorTerms(t)
	big, err := etf.Marshal(map[any]any{
		"list":  []any{1, 2.5, etf.Atom("x"), etf.ImproperList{Elems: []any{1}, Tail: etf.Atom("t")}},
		1:       etf.Tuple{etf.Bitstring{Bytes: []byte{0x80}, TailBits: 1}, mustBig("123456789012345678901234567890")},
		"bytes": []any{1, 2, 3},
	})
	require.NoError(t, err)
	terms["composite"] = big
	for name, full := range terms {
		for cut := 0; cut < len(full); cut++ {
			in := full[:cut]
			var v any
			require.ErrorIs(t, etf.Unmarshal(in, &v), etf.ErrSyntax, "%s cut at %d", name, cut)
			var raw etf.RawTerm
			require.ErrorIs(t, etf.Unmarshal(in, &raw), etf.ErrSyntax, "%s cut at %d", name, cut)
			var s struct{ A map[string]any }
			require.Error(t, etf.Unmarshal(in, &s), "%s cut at %d", name, cut)
			if cut > 0 {
				require.ErrorIs(t, etf.UnmarshalRaw(etf.RawTerm(full[1:cut]), &v), etf.ErrSyntax)
			}
		}
	}
}

// TestLyingLengthsDoNotAllocate: a length field claiming 4 GiB in a tiny
// input must fail without allocating anything like it.
func TestLyingLengthsDoNotAllocate(t *testing.T) {
	for _, h := range []string{"836dfffffff0", "836cfffffff0", "8374fffffff0", "8369fffffff0", "836ffffffff000", "834dfffffff008"} {
		in := unhex(t, h)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 10 {
			var v any
			require.ErrorIs(t, etf.Unmarshal(in, &v), etf.ErrSyntax, h)
			var raw etf.RawTerm
			require.ErrorIs(t, etf.Unmarshal(in, &raw), etf.ErrSyntax, h)
			var s []int
			require.Error(t, etf.Unmarshal(in, &s), h)
		}
		runtime.ReadMemStats(&after)
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), h)
	}
}

func TestUnmarshalRawTerm(t *testing.T) {
	in, err := etf.Marshal(etf.Tuple{map[string]any{"a": 1}, 1764172800000, etf.Atom("infinity")})
	require.NoError(t, err)
	// seal decodes {RawTerm, int, any} then the RawTerm into the user's value.
	var triple []etf.RawTerm
	require.NoError(t, etf.Unmarshal(in, &triple))
	require.Len(t, triple, 3)
	var signedAt int64
	var maxAge any
	raw := triple[0]
	require.NoError(t, etf.UnmarshalRaw(triple[1], &signedAt))
	require.NoError(t, etf.UnmarshalRaw(triple[2], &maxAge))
	assert.Equal(t, int64(1764172800000), signedAt)
	assert.Equal(t, etf.Atom("infinity"), maxAge)
	var data map[string]int
	require.NoError(t, etf.UnmarshalRaw(raw, &data))
	assert.Equal(t, map[string]int{"a": 1}, data)

	// The captured bytes are a copy, not an alias of the input.
	var whole etf.RawTerm
	require.NoError(t, etf.Unmarshal(in, &whole))
	in[len(in)-1] = 'X'
	assert.NotEqual(t, in[1:], []byte(whole))

	// And they encode back verbatim.
	out, err := etf.Marshal(etf.Tuple{raw, signedAt, maxAge})
	require.NoError(t, err)
	assert.Equal(t, whole, etf.RawTerm(out[1:]))
}

// TestNestedMapKeysStayLinear: maps whose keys are maps, nested 200 deep,
// made key comparison re-validate each level's subtree once per ancestor,
// doubling the work per level. The input is small; decoding must finish
// (a regression hangs this test rather than slowing it).
func TestNestedMapKeysStayLinear(t *testing.T) {
	small := etf.Map{{Key: etf.Atom("a"), Value: 1}, {Key: etf.Atom("b"), Value: 1}}
	var m any = etf.Map{{Key: etf.Atom("c"), Value: 1}, {Key: etf.Atom("d"), Value: 1}}
	for range 200 {
		m = etf.Map{{Key: m, Value: 1}, {Key: small, Value: 2}}
	}
	b := mustMarshal(t, m)
	var v any
	require.NoError(t, etf.Unmarshal(b, &v))
	var raw etf.RawTerm
	require.NoError(t, etf.Unmarshal(b, &raw))
	again := mustMarshal(t, v)
	assert.Equal(t, b, again)
}

// TestLargeElementsAreNotPreallocated: a list of 100000 one-byte terms
// decoding into a slice of 64 KiB elements must fail on the first element,
// not reserve 6.5 GB first.
func TestLargeElementsAreNotPreallocated(t *testing.T) {
	in := append([]byte{131, 108, 0, 1, 0x86, 0xa0}, make([]byte, 100001)...)
	for i := 6; i < len(in); i++ {
		in[i] = 106 // []
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var s [][64 << 10]byte
	require.ErrorIs(t, etf.Unmarshal(in, &s), etf.ErrType)
	var m map[string][64 << 10]byte
	mapIn := append([]byte{131, 116, 0, 1, 0x86, 0xa0}, in[6:]...)
	mapIn = append(mapIn, in[6:]...)
	require.ErrorIs(t, etf.Unmarshal(mapIn, &m), etf.ErrType)
	runtime.ReadMemStats(&after)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(8<<20))
}
