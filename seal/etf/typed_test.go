package etf_test

import (
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/seal/etf"
)

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := etf.Marshal(v)
	require.NoError(t, err)
	return b
}

type role string

type account struct {
	ID       int64
	Name     string
	Roles    []etf.Atom
	Limits   map[string]int
	Manager  *account
	Created  time.Duration
	Avatar   []byte
	Checksum [4]byte
	Score    float32
	Active   bool
	Role     role
	Extra    any
	Big      *big.Int
	Raw      etf.RawTerm
}

func TestUnmarshalTyped(t *testing.T) {
	type test struct {
		name string
		in   any // encoded with Marshal
		dst  func() any
		want any
		err  error
	}
	ptr := func(v any) func() any { return func() any { return v } }
	tests := []test{
		{"int64", 7, ptr(new(int64)), int64(7), nil},
		{"int8 overflow", 300, ptr(new(int8)), nil, etf.ErrType},
		{"int8 min", -128, ptr(new(int8)), int8(-128), nil},
		{"uint8", 255, ptr(new(uint8)), uint8(255), nil},
		{"uint negative", -1, ptr(new(uint)), nil, etf.ErrType},
		{"uint64 big", uint64(math.MaxUint64), ptr(new(uint64)), uint64(math.MaxUint64), nil},
		{"int64 from big", mustBig("18446744073709551616"), ptr(new(int64)), nil, etf.ErrType},
		{"int from float", 1.5, ptr(new(int)), nil, etf.ErrType},
		{"float64", 2.5, ptr(new(float64)), 2.5, nil},
		{"float64 from int", 3, ptr(new(float64)), 3.0, nil},
		{"float32 overflow", 1e300, ptr(new(float32)), nil, etf.ErrType},
		{"duration", 5 * time.Second, ptr(new(time.Duration)), 5 * time.Second, nil},
		{"bool", true, ptr(new(bool)), true, nil},
		{"bool from other atom", etf.Atom("yes"), ptr(new(bool)), nil, etf.ErrType},
		{"bool from int", 1, ptr(new(bool)), nil, etf.ErrType},
		{"string", "hi", ptr(new(string)), "hi", nil},
		{"string from charlist", []any{104, 105}, ptr(new(string)), "hi", nil},
		{"string from []", []any{}, ptr(new(string)), "", nil},
		{"string from atom", etf.Atom("hi"), ptr(new(string)), nil, etf.ErrType},
		{"string from list of big ints", []any{1000}, ptr(new(string)), nil, etf.ErrType},
		{"named string", "admin", ptr(new(role)), role("admin"), nil},
		{"atom", etf.Atom("ok"), ptr(new(etf.Atom)), etf.Atom("ok"), nil},
		{"atom true", true, ptr(new(etf.Atom)), etf.Atom("true"), nil},
		{"atom from binary", "ok", ptr(new(etf.Atom)), nil, etf.ErrType},
		{"bytes", []byte{1, 2}, ptr(new([]byte)), []byte{1, 2}, nil},
		{"bytes from charlist", []any{1, 2}, ptr(new([]byte)), []byte{1, 2}, nil},
		{"byte array", []byte{1, 2, 3, 4}, ptr(new([4]byte)), [4]byte{1, 2, 3, 4}, nil},
		{"byte array wrong size", []byte{1, 2}, ptr(new([4]byte)), nil, etf.ErrType},
		{"int slice", []int{1, 2, 3}, ptr(new([]int)), []int{1, 2, 3}, nil},
		{"int slice from list", []any{1, 1000}, ptr(new([]int)), []int{1, 1000}, nil},
		{"slice from tuple", etf.Tuple{"a", "b"}, ptr(new([]string)), []string{"a", "b"}, nil},
		{"slice from improper list", etf.ImproperList{Elems: []any{1}, Tail: 2}, ptr(new([]int)), nil, etf.ErrType},
		{"slice element mismatch", []any{"a"}, ptr(new([]int)), nil, etf.ErrType},
		{"array", []int{1, 2}, ptr(new([2]int)), [2]int{1, 2}, nil},
		{"array wrong length", []int{1, 2, 3}, ptr(new([2]int)), nil, etf.ErrType},
		{"tuple", etf.Tuple{1, "a"}, ptr(new(etf.Tuple)), etf.Tuple{int64(1), "a"}, nil},
		{"tuple from list", []any{"x"}, ptr(new(etf.Tuple)), nil, etf.ErrType},
		{"map string keys", map[string]int{"a": 1}, ptr(new(map[string]int)), map[string]int{"a": 1}, nil},
		{"map string keys from atoms", map[etf.Atom]int{"a": 1}, ptr(new(map[string]int)), map[string]int{"a": 1}, nil},
		{"map atom keys", map[etf.Atom]string{"a": "x"}, ptr(new(map[etf.Atom]string)), map[etf.Atom]string{"a": "x"}, nil},
		{"map atom keys from binaries", map[string]string{"a": "x"}, ptr(new(map[etf.Atom]string)), nil, etf.ErrType},
		{"map int keys", map[int]bool{1: true}, ptr(new(map[int]bool)), map[int]bool{1: true}, nil},
		{"map from list", []any{1}, ptr(new(map[string]any)), nil, etf.ErrType},
		{"nil into pointer", nil, ptr(new(*int)), (*int)(nil), nil},
		{"nil into slice", nil, ptr(new([]int)), []int(nil), nil},
		{"nil into map", nil, ptr(new(map[string]int)), map[string]int(nil), nil},
		{"nil into any", nil, ptr(new(any)), nil, nil},
		{"nil into int", nil, ptr(new(int)), nil, etf.ErrType},
		{"pointer allocated", 5, ptr(new(*int)), func() *int { v := 5; return &v }(), nil},
		{"big", mustBig("-18446744073709551616"), ptr(new(*big.Int)), mustBig("-18446744073709551616"), nil},
		{"big from small", 5, ptr(new(big.Int)), *big.NewInt(5), nil},
		{"bitstring", etf.Bitstring{Bytes: []byte{0x80}, TailBits: 1}, ptr(new(etf.Bitstring)), etf.Bitstring{Bytes: []byte{0x80}, TailBits: 1}, nil},
		{"improper", etf.ImproperList{Elems: []any{1}, Tail: 2}, ptr(new(etf.ImproperList)), etf.ImproperList{Elems: []any{int64(1)}, Tail: int64(2)}, nil},
		{"improper from proper list", []any{1, 2}, ptr(new(etf.ImproperList)), nil, etf.ErrType},
		{"map pairs in term order", map[any]any{2: "b", 1: "a"}, ptr(new(etf.Map)), etf.Map{{Key: int64(1), Value: "a"}, {Key: int64(2), Value: "b"}}, nil},
		{"raw", etf.Tuple{1}, ptr(new(etf.RawTerm)), etf.RawTerm{0x68, 1, 0x61, 1}, nil},
		{"struct from map", map[etf.Atom]any{"x": 1}, ptr(new(struct{ X int })), struct{ X int }{1}, nil},
		{"struct from list", []any{1}, ptr(new(struct{ X int })), nil, etf.ErrType},
		{"struct field mismatch", map[etf.Atom]any{"x": "no"}, ptr(new(struct{ X int })), nil, etf.ErrType},
		{"non-empty interface", 1, ptr(new(error)), nil, etf.ErrType},
		{"chan", 1, ptr(new(chan int)), nil, etf.ErrUnsupported},
		{"time.Time from a map that is no struct", map[etf.Atom]any{}, ptr(new(time.Time)), nil, etf.ErrType},
		{"time.Time from an integer", 1764172800, ptr(new(time.Time)), nil, etf.ErrType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := mustMarshal(t, tc.in)
			dst := tc.dst()
			err := etf.Unmarshal(b, dst)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, derefAny(dst))
		})
	}
}

// derefAny returns *p for any pointer p.
func derefAny(p any) any {
	switch v := p.(type) {
	case *int64:
		return *v
	case *int8:
		return *v
	case *uint8:
		return *v
	case *uint64:
		return *v
	case *float64:
		return *v
	case *time.Duration:
		return *v
	case *bool:
		return *v
	case *string:
		return *v
	case *role:
		return *v
	case *etf.Atom:
		return *v
	case *[]byte:
		return *v
	case *[4]byte:
		return *v
	case *[]int:
		return *v
	case *[]string:
		return *v
	case *[2]int:
		return *v
	case *etf.Tuple:
		return *v
	case *map[string]int:
		return *v
	case *map[etf.Atom]string:
		return *v
	case *map[int]bool:
		return *v
	case **int:
		return *v
	case *any:
		return *v
	case **big.Int:
		return *v
	case *big.Int:
		return *v
	case *etf.Bitstring:
		return *v
	case *etf.ImproperList:
		return *v
	case *etf.Map:
		return *v
	case *etf.RawTerm:
		return *v
	case *struct{ X int }:
		return *v
	}
	panic("derefAny: add a case")
}

func TestUnmarshalDestinationMustBePointer(t *testing.T) {
	b := mustMarshal(t, 1)
	var x int
	require.ErrorIs(t, etf.Unmarshal(b, x), etf.ErrType)
	require.ErrorIs(t, etf.Unmarshal(b, nil), etf.ErrType)
	require.ErrorIs(t, etf.Unmarshal(b, (*int)(nil)), etf.ErrType)
	require.ErrorIs(t, etf.Unmarshal(b, (*any)(nil)), etf.ErrType)
	require.ErrorIs(t, etf.Unmarshal(b, (*etf.RawTerm)(nil)), etf.ErrType)
	require.ErrorIs(t, etf.UnmarshalRaw(etf.RawTerm(b[1:]), (*any)(nil)), etf.ErrType)
}

func TestStructDecodingAcceptsAtomAndBinaryKeys(t *testing.T) {
	b := mustMarshal(t, etf.Map{
		{Key: etf.Atom("launch_id"), Value: "l1"},
		{Key: "machine_id", Value: "m1"},
		{Key: etf.Atom("unknown"), Value: etf.Tuple{1, 2}},
		{Key: int64(5), Value: "ignored"},
		{Key: etf.Tuple{"weird"}, Value: []any{1}},
	})
	var s struct {
		LaunchID  string
		MachineID string
	}
	require.NoError(t, etf.Unmarshal(b, &s))
	assert.Equal(t, "l1", s.LaunchID)
	assert.Equal(t, "m1", s.MachineID)

	// Latin-1 atom keys, as OTP 25 writes them, match too.
	var u struct {
		État string `etf:"état"`
	}
	require.NoError(t, etf.Unmarshal(unhex(t, "8374000000016400"+"04"+"e9746174"+"6d0000000178"), &u))
	assert.Equal(t, "x", u.État)
}

func TestStructAllTypesRoundTrip(t *testing.T) {
	in := account{
		ID: -5, Name: "Ana", Roles: []etf.Atom{"admin"}, Limits: map[string]int{"cpu": 2},
		Manager: &account{ID: 1, Name: "Bo"}, Created: time.Minute, Avatar: []byte{1, 2},
		Checksum: [4]byte{9, 8, 7, 6}, Score: 0.5, Active: true, Role: "dev",
		Extra: map[any]any{etf.Atom("k"): etf.Tuple{int64(1)}}, Big: mustBig("99999999999999999999"),
		Raw: etf.RawTerm{0x61, 1},
	}
	var out account
	require.NoError(t, etf.Unmarshal(mustMarshal(t, in), &out))
	// Nil slices and maps encode as [] and #{} and come back empty, not
	// nil; the zero RawTerm encodes as the atom nil.
	in.Manager.Roles, in.Manager.Limits, in.Manager.Avatar = []etf.Atom{}, map[string]int{}, []byte{}
	in.Manager.Raw = etf.RawTerm{0x77, 3, 'n', 'i', 'l'}
	assert.Equal(t, in, out)
}
