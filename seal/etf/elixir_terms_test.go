package etf_test

import (
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/seal/etf"
)

// elixirTerm is one term made by real Erlang/OTP 25 (testdata/elixir-terms.json,
// written by testdata/elixir_terms.erl).
type elixirTerm struct {
	Name   string `json:"name"`
	Elixir string `json:"elixir"`
	ETFHex string `json:"etf_hex"`
	// Calendar structs only: the instant (for naive datetimes and dates,
	// the wall clock read as UTC), the total UTC offset and the zone's
	// abbreviation, as Erlang's calendar module computes them.
	UnixUs   *int64 `json:"unix_us"`
	OffsetS  int    `json:"offset_s"`
	ZoneAbbr string `json:"zone_abbr"`
	bytes    []byte
}

func elixirTerms(t testing.TB) map[string]elixirTerm {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "elixir-terms.json"))
	require.NoError(t, err)
	var file struct {
		Terms []elixirTerm `json:"terms"`
	}
	require.NoError(t, json.Unmarshal(raw, &file))
	out := make(map[string]elixirTerm, len(file.Terms))
	for _, term := range file.Terms {
		term.bytes, err = hex.DecodeString(term.ETFHex)
		require.NoError(t, err, term.Name)
		out[term.Name] = term
	}
	require.NotEmpty(t, out)
	return out
}

func ptrTo[T any](v T) *T { return &v }

// TestOTP25AtomsIntoTypedDestinations decodes nil, true and false as OTP 25
// writes them (ATOM_EXT, tag 100) into every kind of typed destination.
// Each destination starts out non-nil, so that a nil that is skipped
// rather than applied is seen.
func TestOTP25AtomsIntoTypedDestinations(t *testing.T) {
	type nilFields struct {
		ID    int
		Name  *string
		Tags  []string
		Meta  map[string]int
		Count *int
	}
	type atomFields struct {
		Status etf.Atom
		Flag   bool
		Off    bool
		Ptr    *int
		Tags   []string
		Limits map[string]int
		When   *time.Duration
	}
	one := 1
	tests := []struct {
		term string
		name string
		dst  any // a pointer to a non-zero value
		want any
	}{
		{"atoms/nil", "*int", ptrTo(&one), (*int)(nil)},
		{"atoms/nil", "[]int", ptrTo([]int{1}), []int(nil)},
		{"atoms/nil", "map[string]int", ptrTo(map[string]int{"a": 1}), map[string]int(nil)},
		{"atoms/nil", "*string", ptrTo(ptrTo("x")), (*string)(nil)},
		{"atoms/nil", "[]byte", ptrTo([]byte("x")), []byte(nil)},
		{"atoms/nil", "*big.Int", ptrTo(big.NewInt(1)), (*big.Int)(nil)},
		{"atoms/nil", "etf.Tuple", ptrTo(etf.Tuple{1}), etf.Tuple(nil)},
		{"atoms/nil", "etf.Map", ptrTo(etf.Map{{Key: 1, Value: 2}}), etf.Map(nil)},
		{"atoms/nil", "*struct", ptrTo(&nilFields{ID: 1}), (*nilFields)(nil)},
		{"atoms/nil", "any", ptrTo[any](1), nil},
		{"atoms/nil", "etf.Atom", ptrTo(etf.Atom("x")), etf.Atom("nil")},
		{"atoms/true", "bool", ptrTo(false), true},
		{"atoms/true", "*bool", ptrTo(ptrTo(false)), ptrTo(true)},
		{"atoms/true", "etf.Atom", ptrTo(etf.Atom("x")), etf.Atom("true")},
		{"atoms/true", "any", ptrTo[any](1), true},
		{"atoms/false", "bool", ptrTo(true), false},
		{"atoms/false", "*bool", ptrTo(ptrTo(true)), ptrTo(false)},
		{"atoms/false", "any", ptrTo[any](1), false},
		{"atoms/list-of-nils", "[]*int", ptrTo([]*int{&one}), []*int{nil, ptrTo(1), nil}},
		{"atoms/list-of-nils", "[3]*int", ptrTo([3]*int{&one, &one, &one}), [3]*int{nil, ptrTo(1), nil}},
		{"atoms/list-of-nils", "[]any", ptrTo([]any{}), []any{nil, int64(1), nil}},
		{"atoms/tuple", "[]*bool", ptrTo([]*bool{}), []*bool{nil, ptrTo(true), ptrTo(false)}},
		{"atoms/tuple", "[3]any", ptrTo([3]any{1, 2, 3}), [3]any{nil, true, false}},
		{"atoms/string-keyed-nils", "struct", ptrTo(nilFields{Name: ptrTo("x"), Tags: []string{"t"}, Meta: map[string]int{"m": 1}, Count: &one}),
			nilFields{ID: 3}},
		{"atoms/string-keyed-nils", "map[string]*int", ptrTo(map[string]*int{}),
			map[string]*int{"count": nil, "id": ptrTo(3), "meta": nil, "name": nil, "tags": nil}},
		{"atoms/atom-keyed", "struct", ptrTo(atomFields{Ptr: &one, Tags: []string{}, Limits: map[string]int{}, When: ptrTo(time.Second)}),
			atomFields{Status: "ok", Flag: true}},
		{"atoms/atom-keyed", "map[etf.Atom]any", ptrTo(map[etf.Atom]any{}),
			map[etf.Atom]any{"status": etf.Atom("ok"), "flag": true, "off": false, "ptr": nil, "tags": nil, "limits": nil, "when": nil}},
		{"atoms/nested", "[]map[string]*bool", ptrTo([]map[string]*bool{}), []map[string]*bool{{"a": nil, "b": ptrTo(true)}, nil}},
	}
	terms := elixirTerms(t)
	for _, tt := range tests {
		t.Run(tt.term+"/"+tt.name, func(t *testing.T) {
			term, ok := terms[tt.term]
			require.True(t, ok, "missing term %s", tt.term)
			require.NoError(t, etf.Unmarshal(term.bytes, tt.dst), "%s into %s", term.Elixir, tt.name)
			assert.Equal(t, tt.want, reflect.ValueOf(tt.dst).Elem().Interface())
		})
	}
}

// TestOpaqueTermsUnsupported decodes Erlang-made pids, references, ports
// and funs, alone and nested: every destination that could hold the term's
// shape answers ErrUnsupported, and so does TupleElements when one is
// inside a tuple.
func TestOpaqueTermsUnsupported(t *testing.T) {
	scalar := func() []any {
		return []any{new(map[string]any), new([]int), new(struct{ ID int }), new(int), new(*string)}
	}
	typed := map[string][]any{
		"opaque/pid":               scalar(),
		"opaque/reference":         scalar(),
		"opaque/port":              scalar(),
		"opaque/fun":               scalar(),
		"opaque/export":            scalar(),
		"opaque/pid-in-map":        {new(map[string]any), new(struct{ Owner any }), new(map[string]int)},
		"opaque/reference-in-list": {new([]any), new([]int), new([2]*int)},
	}
	terms := elixirTerms(t)
	for name, dsts := range typed {
		t.Run(name, func(t *testing.T) {
			term, ok := terms[name]
			require.True(t, ok)
			for _, dst := range append(dsts, new(any), new(etf.RawTerm)) {
				require.ErrorIs(t, etf.Unmarshal(term.bytes, dst), etf.ErrUnsupported, "%s into %T", term.Elixir, dst)
			}
			tuple := append([]byte{131, 104, 3}, term.bytes[1:]...)
			tuple = append(tuple, 97, 1, 97, 2)
			_, err := etf.TupleElements(tuple)
			require.ErrorIs(t, err, etf.ErrUnsupported)
		})
	}
}
