package etf_test

import (
	"encoding/hex"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/seal/etf"
)

func mustBig(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return v
}

type myInt int16

func TestMarshalTags(t *testing.T) {
	longAtom := strings.Repeat("é", 200) // 400 bytes, 200 characters
	tests := []struct {
		name string
		in   any
		hex  string // without the leading 83
	}{
		{"nil", nil, "77036e696c"},
		{"true", true, "770474727565"},
		{"false", false, "770566616c7365"},
		{"atom", etf.Atom("ok"), "77026f6b"},
		{"atom unicode", etf.Atom("héllo"), "770668c3a96c6c6f"},
		{"atom 255 bytes", etf.Atom(strings.Repeat("a", 255)), "77ff" + strings.Repeat("61", 255)},
		{"atom over 255 bytes", etf.Atom(longAtom), "760190" + strings.Repeat("c3a9", 200)},
		{"empty atom", etf.Atom(""), "7700"},
		{"int 0", 0, "6100"},
		{"int 255", 255, "61ff"},
		{"int 256", 256, "6200000100"},
		{"int -1", -1, "62ffffffff"},
		{"int32 max", int32(math.MaxInt32), "627fffffff"},
		{"int32 min", math.MinInt32, "6280000000"},
		{"2^31", int64(1) << 31, "6e0400000000" + "80"},
		{"-2^31-1", int64(math.MinInt32) - 1, "6e040101000080"},
		{"int64 max", int64(math.MaxInt64), "6e0800ffffffffffffff7f"},
		{"int64 min", int64(math.MinInt64), "6e08010000000000000080"},
		{"uint64 max", uint64(math.MaxUint64), "6e0800ffffffffffffffff"},
		{"uint8", uint8(7), "6107"},
		{"named int", myInt(-2), "62fffffffe"},
		{"duration", 2 * time.Second, "6277359400"},
		{"duration beyond int32", 3 * time.Second, "6e0400005ed0b2"},
		{"big small value", big.NewInt(5), "6105"},
		{"big 2^64", mustBig("18446744073709551616"), "6e09000000000000000000" + "01"},
		{"big negative", mustBig("-18446744073709551616"), "6e09010000000000000000" + "01"},
		{"big 256 digits", new(big.Int).Lsh(big.NewInt(1), 255*8), "6f0000010000" + strings.Repeat("00", 255) + "01"},
		{"float", 1.5, "463ff8000000000000"},
		{"float32", float32(-2), "46c000000000000000"},
		{"negative zero", math.Copysign(0, -1), "468000000000000000"},
		{"binary", "hello", "6d0000000568656c6c6f"},
		{"empty binary", "", "6d00000000"},
		{"bytes", []byte{0, 255}, "6d0000000200ff"},
		{"byte array", [2]byte{1, 2}, "6d000000020102"},
		{"bitstring", etf.Bitstring{Bytes: []byte{0xff}, TailBits: 3}, "4d0000000103e0"},
		{"bitstring of 8 bits is a binary", etf.Bitstring{Bytes: []byte{1}, TailBits: 8}, "6d0000000101"},
		{"empty list", []any{}, "6a"},
		{"nil slice", []int(nil), "6a"},
		{"string ext", []any{1, 2, 3}, "6b0003010203"},
		{"typed string ext", []int{97, 98}, "6b00026162"},
		{"list", []any{1, "a"}, "6c0000000261016d00000001616a"},
		{"ints over 255", []int{1, 300}, "6c00000002610162000001" + "2c6a"},
		{"improper", etf.ImproperList{Elems: []any{1}, Tail: etf.Atom("a")}, "6c000000016101770161"},
		{"improper with list tail", etf.ImproperList{Elems: []any{1}, Tail: []any{2}}, "6b00020102"},
		{"improper with long list tail", etf.ImproperList{Elems: []any{"x"}, Tail: []any{2, "y"}}, "6c000000036d0000000178610" + "26d00000001796a"},
		{"improper with improper tail", etf.ImproperList{Elems: []any{1}, Tail: etf.ImproperList{Elems: []any{2}, Tail: 3}}, "6c0000000261016102" + "6103"},
		{"improper without elems", etf.ImproperList{Tail: etf.Atom("a")}, "770161"},
		{"tuple", etf.Tuple{etf.Atom("ok"), 1}, "680277026f6b6101"},
		{"empty tuple", etf.Tuple{}, "6800"},
		{"empty struct", struct{}{}, "7400000000"},
		{"large tuple", make(etf.Tuple, 256), "6900000100" + strings.Repeat("77036e696c", 256)},
		{"empty map", map[string]any{}, "7400000000"},
		{"string keys", map[string]int{"b": 1, "a": 2}, "74000000026d00000001616102" + "6d00000001626101"},
		{"atom keys", map[etf.Atom]any{"b": 1, "a": 2}, "740000000277016161027701626101"},
		{"pointer", new(int), "6100"},
		{"nil pointer", (*int)(nil), "77036e696c"},
		{"raw term", etf.RawTerm{0x61, 0x05}, "6105"},
		{"empty raw term", etf.RawTerm(nil), "77036e696c"},
		{"raw terms in list make a string", []any{etf.RawTerm{0x61, 0x05}}, "6b000105"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := etf.Marshal(tc.in)
			require.NoError(t, err)
			assert.Equal(t, "83"+tc.hex, hex.EncodeToString(got))
		})
	}
}

func TestMarshalStringExtLimit(t *testing.T) {
	l := make([]any, 65535)
	for i := range l {
		l[i] = 7
	}
	b, err := etf.Marshal(l)
	require.NoError(t, err)
	assert.Equal(t, byte(107), b[1], "65535 bytes: STRING_EXT")
	l = append(l, 7)
	b, err = etf.Marshal(l)
	require.NoError(t, err)
	assert.Equal(t, byte(108), b[1], "65536 elements: LIST_EXT")
}

func TestMarshalErrors(t *testing.T) {
	deep := []any{}
	for range etf.MaxDepth + 1 {
		deep = []any{deep}
	}
	type cyclic struct{ Next *cyclic }
	loop := &cyclic{}
	loop.Next = loop
	tests := []struct {
		name string
		in   any
		want error
	}{
		{"NaN", math.NaN(), etf.ErrType},
		{"Inf", math.Inf(1), etf.ErrType},
		{"chan", make(chan int), etf.ErrUnsupported},
		{"func", func() {}, etf.ErrUnsupported},
		{"complex", complex(1, 2), etf.ErrUnsupported},
		{"invalid utf8 atom", etf.Atom("\xff"), etf.ErrType},
		{"atom of 256 characters", etf.Atom(strings.Repeat("a", 256)), etf.ErrLimit},
		{"too deep", deep, etf.ErrLimit},
		{"cycle", loop, etf.ErrLimit},
		{"raw term two terms", etf.RawTerm{0x61, 1, 0x61, 2}, etf.ErrSyntax},
		{"raw term truncated", etf.RawTerm{0x62, 0, 0}, etf.ErrSyntax},
		{"raw term with version byte", etf.RawTerm{131, 0x61, 1}, etf.ErrUnsupported},
		{"bitstring without bits", etf.Bitstring{Bytes: []byte{1}}, etf.ErrType},
		{"empty bitstring", etf.Bitstring{TailBits: 3}, etf.ErrType},
		{"nested error", map[string]any{"x": []any{math.NaN()}}, etf.ErrType},
		{"time.Time after year 9999", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), etf.ErrType},
		{"time.Time before year -9999", time.Date(-10000, 12, 31, 23, 59, 59, 0, time.UTC), etf.ErrType},
		{"time.Time in year 9999 in UTC only", time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("X", -3600)), etf.ErrType},
		{"struct of unexported fields", struct{ x int }{}, etf.ErrUnsupported},
		{"field name not an atom", struct {
			X int `etf:"\xff"`
		}{}, etf.ErrType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("prefix")
			out, err := etf.AppendMarshal(dst, tc.in)
			require.ErrorIs(t, err, tc.want)
			assert.Equal(t, "prefix", string(out))
		})
	}
}

func TestAppendMarshalAppends(t *testing.T) {
	dst := make([]byte, 0, 64)
	dst = append(dst, "ab"...)
	out, err := etf.AppendMarshal(dst, 1)
	require.NoError(t, err)
	assert.Equal(t, []byte{'a', 'b', 131, 97, 1}, out)
	assert.Equal(t, &dst[:1][0], &out[0], "appends in place when capacity allows")
}

func TestStructNaming(t *testing.T) {
	for in, want := range map[string]string{
		"LaunchID":   "launch_id",
		"URL":        "url",
		"MachineID":  "machine_id",
		"HTTPServer": "http_server",
		"ID":         "id",
		"Name":       "name",
		"V2Config":   "v2_config",
		"Field2":     "field2",
		"userName":   "user_name",
		"ÉtatCivil":  "état_civil",
	} {
		t.Run(in, func(t *testing.T) {
			assert.Equal(t, want, etf.SnakeCase(in))
		})
	}

	type Inner struct {
		Region string
		Shared int
	}
	type tagged struct {
		Inner
		LaunchID string
		Shared   int    `etf:"shared"`
		Renamed  string `etf:"other_name"`
		Skipped  string `etf:"-"`
		Empty    string `etf:",omitempty"`
		EmptyPtr *int   `etf:"ptr,omitempty"`
		Kept     string `etf:",omitempty"`
		private  int
	}
	b, err := etf.Marshal(tagged{Inner: Inner{Region: "ams", Shared: 1}, LaunchID: "l", Shared: 2, Renamed: "r", Skipped: "s", Kept: "k", private: 3})
	require.NoError(t, err)
	var m map[etf.Atom]any
	require.NoError(t, etf.Unmarshal(b, &m))
	assert.Equal(t, map[etf.Atom]any{
		"region": "ams", "launch_id": "l", "shared": int64(2), "other_name": "r", "kept": "k",
	}, m)
	// Struct keys are written in term order: atoms by text.
	assert.Equal(t, "8374000000057704"+hex.EncodeToString([]byte("kept")), hex.EncodeToString(b[:12]))
}

// Erlang writes maps of more than 32 keys in its internal hash order; Marshal
// keeps term order for every size (documented), and the term is the same.
func TestLargeMapsUseTermOrder(t *testing.T) {
	m := map[string]any{}
	for i := range 40 {
		m[string(rune('A'+i))] = i
	}
	b, err := etf.Marshal(m)
	require.NoError(t, err)
	want := []byte{131, 116, 0, 0, 0, 40}
	for i := range 40 {
		want = append(want, mustMarshal(t, string(rune('A'+i)))[1:]...)
		want = append(want, mustMarshal(t, i)[1:]...)
	}
	assert.Equal(t, want, b)
	var back map[string]int
	require.NoError(t, etf.Unmarshal(b, &back))
	assert.Len(t, back, 40)
	assert.Equal(t, 39, back[string(rune('A'+39))])
}
