package etf_test

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/seal/etf"
)

// vectorTerms returns every distinct data_etf_hex of seal's Phoenix.Token
// interop vectors: term_to_binary output of OTP 26+.
func vectorTerms(t testing.TB) map[string][]byte {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "phoenix-token.json"))
	require.NoError(t, err)
	var file struct {
		Vectors []struct {
			Name       string `json:"name"`
			DataETFHex string `json:"data_etf_hex"`
		} `json:"vectors"`
	}
	require.NoError(t, json.Unmarshal(raw, &file))
	out := map[string][]byte{}
	seen := map[string]bool{}
	for _, v := range file.Vectors {
		if v.DataETFHex == "" || seen[v.DataETFHex] {
			continue
		}
		seen[v.DataETFHex] = true
		b, err := hex.DecodeString(v.DataETFHex)
		require.NoError(t, err, v.Name)
		out[v.Name] = b
	}
	require.NotEmpty(t, out)
	return out
}

func TestVectorsRoundTripThroughAny(t *testing.T) {
	for name, want := range vectorTerms(t) {
		t.Run(name, func(t *testing.T) {
			var v any
			require.NoError(t, etf.Unmarshal(want, &v))
			got, err := etf.Marshal(v)
			require.NoError(t, err)
			require.Equal(t, hex.EncodeToString(want), hex.EncodeToString(got))

			var raw etf.RawTerm
			require.NoError(t, etf.Unmarshal(want, &raw))
			require.Equal(t, want[1:], []byte(raw))
			got, err = etf.Marshal(raw)
			require.NoError(t, err)
			require.Equal(t, want, got)
		})
	}
}
