package etf_test

import (
	"encoding/hex"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/seal/etf"
)

type launchState struct {
	LaunchID  string
	MachineID string
	URL       string
	Step      int
	Timeout   time.Duration
	Tags      []string       `etf:"labels,omitempty"`
	Secret    string         `etf:"-"`
	Extra     map[string]any `etf:",omitempty"`
	internal  int
}

func TestStructRoundTrip(t *testing.T) {
	in := launchState{LaunchID: "l1", MachineID: "m1", URL: "https://x", Step: 3, Timeout: 2 * time.Second, Secret: "s", internal: 1}
	b, err := etf.Marshal(in)
	require.NoError(t, err)
	var m any
	require.NoError(t, etf.Unmarshal(b, &m))
	assert.Equal(t, map[any]any{
		etf.Atom("launch_id"):  "l1",
		etf.Atom("machine_id"): "m1",
		etf.Atom("url"):        "https://x",
		etf.Atom("step"):       int64(3),
		etf.Atom("timeout"):    int64(2 * time.Second),
	}, m)
	var out launchState
	require.NoError(t, etf.Unmarshal(b, &out))
	in.Secret, in.internal = "", 0
	assert.Equal(t, in, out)
	t.Log(hex.EncodeToString(b))
}

// TestEmbeddedOpaqueStructs checks that an anonymous time.Time or big.Int,
// which encode as one term each and have no exported fields to promote,
// is the field it is (key time or int, by SnakeCase of the type name),
// both ways, rather than silently dropped.
func TestEmbeddedOpaqueStructs(t *testing.T) {
	at := time.Date(2025, 11, 26, 16, 0, 0, 123456000, time.UTC)
	type withTime struct {
		time.Time
		Name string
	}
	type withTaggedTime struct {
		time.Time `etf:"at"`
		Name      string
	}
	type withBig struct {
		big.Int
		Name string
	}
	type withTimePtr struct {
		*time.Time
		Name string
	}
	huge, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	tests := []struct {
		name string
		in   any
		dst  any // a pointer to a zero value of in's type
		keys map[any]any
	}{
		{"time.Time", withTime{Time: at, Name: "x"}, new(withTime),
			map[any]any{etf.Atom("time"): at, etf.Atom("name"): "x"}},
		{"tagged time.Time", withTaggedTime{Time: at, Name: "x"}, new(withTaggedTime),
			map[any]any{etf.Atom("at"): at, etf.Atom("name"): "x"}},
		{"*time.Time", withTimePtr{Time: &at, Name: "x"}, new(withTimePtr),
			map[any]any{etf.Atom("time"): at, etf.Atom("name"): "x"}},
		{"big.Int", withBig{Int: *huge, Name: "x"}, new(withBig),
			map[any]any{etf.Atom("int"): huge, etf.Atom("name"): "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := etf.Marshal(tt.in)
			require.NoError(t, err)
			want, err := etf.Marshal(tt.keys)
			require.NoError(t, err)
			require.Equal(t, want, b, "the same bytes as a map with the field")
			require.NoError(t, etf.Unmarshal(want, tt.dst))
			assert.Equal(t, tt.in, reflect.ValueOf(tt.dst).Elem().Interface())
		})
	}
}
