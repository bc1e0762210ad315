package etf_test

import (
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/seal/etf"
)

// TestTermOrderGolden checks map key order against maps that Erlang itself
// encoded (testdata/term-order.json, made by testdata/term_order.erl):
// decoding and encoding again must reproduce Erlang's bytes, also when the
// pairs start out shuffled.
func TestTermOrderGolden(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "term-order.json"))
	require.NoError(t, err)
	var cases []struct {
		Name   string `json:"name"`
		Erlang string `json:"erlang"`
		ETFHex string `json:"etf_hex"`
	}
	require.NoError(t, json.Unmarshal(raw, &cases))
	require.NotEmpty(t, cases)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			want, err := hex.DecodeString(c.ETFHex)
			require.NoError(t, err)
			var v any
			require.NoError(t, etf.Unmarshal(want, &v))
			got, err := etf.Marshal(v)
			require.NoError(t, err)
			assert.Equal(t, c.ETFHex, hex.EncodeToString(got), c.Erlang)

			// The same pairs as an etf.Map in shuffled order.
			var pairs etf.Map
			require.NoError(t, etf.Unmarshal(want, &pairs))
			rng := rand.New(rand.NewPCG(7, 7))
			for range 5 {
				rng.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
				got, err := etf.Marshal(pairs)
				require.NoError(t, err)
				assert.Equal(t, c.ETFHex, hex.EncodeToString(got), c.Erlang)
			}
		})
	}
}

func TestMapKeysOrderedByTermOrder(t *testing.T) {
	m := map[any]any{
		"bin":             1,
		etf.Atom("atom"):  2,
		int64(7):          3,
		2.5:               4,
		nil:               5, // the atom nil
		true:              6,
		etf.Atom("zebra"): 7,
	}
	got, err := etf.Marshal(m)
	require.NoError(t, err)
	var pairs etf.Map
	require.NoError(t, etf.Unmarshal(got, &pairs))
	keys := make([]any, len(pairs))
	for i, p := range pairs {
		keys[i] = p.Key
	}
	// integer < float < atoms (by text: atom, nil, true, zebra) < binary
	assert.Equal(t, []any{int64(7), 2.5, etf.Atom("atom"), nil, true, etf.Atom("zebra"), "bin"}, keys)
}

func TestMapKeysEqualAsTermsRejected(t *testing.T) {
	_, err := etf.Marshal(map[any]any{1: "a", int64(1): "b"})
	require.ErrorIs(t, err, etf.ErrType)
	_, err = etf.Marshal(etf.Map{{Key: "k", Value: 1}, {Key: []byte("k"), Value: 2}})
	require.ErrorIs(t, err, etf.ErrType)
}
