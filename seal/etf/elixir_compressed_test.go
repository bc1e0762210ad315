package etf_test

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/seal/etf"
)

// elixirCompressed is one term of ../testdata/compressed-tokens.json, made
// by real Erlang/OTP (interop.escript gen-compressed): the SHA-256 and size
// of term_to_binary(T) and term_to_binary(T, [compressed]) at the default
// level, 1 and 9.
type elixirCompressed struct {
	Name       string            `json:"name"`
	Elixir     string            `json:"elixir"`
	Size       int               `json:"etf_size"`
	SHA256     string            `json:"etf_sha256"`
	Compressed map[string]string `json:"compressed_hex"`
}

func loadElixirCompressed(t testing.TB) []elixirCompressed {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "compressed-tokens.json"))
	require.NoError(t, err)
	var file struct {
		Terms []elixirCompressed `json:"terms"`
	}
	require.NoError(t, json.Unmarshal(raw, &file))
	require.Len(t, file.Terms, 40)
	return file.Terms
}

// inflateIndependently returns the plain term_to_binary(T) of an
// Erlang-compressed term with compress/zlib alone, not this package, and
// checks it against Erlang's SHA-256 of the plain bytes.
func inflateIndependently(t *testing.T, term elixirCompressed, b []byte) []byte {
	t.Helper()
	plain := b
	if b[1] == 80 {
		zr, err := zlib.NewReader(bytes.NewReader(b[6:]))
		require.NoError(t, err)
		inflated, err := io.ReadAll(zr)
		require.NoError(t, err)
		plain = append([]byte{131}, inflated...)
	}
	sum := sha256.Sum256(plain)
	require.Equal(t, term.SHA256, hex.EncodeToString(sum[:]), "%s: plain bytes", term.Name)
	require.Len(t, plain, term.Size)
	return plain
}

// TestElixirCompressedTerms decodes terms Erlang compressed with
// term_to_binary(T, [compressed]) at levels 6 (the default), 1 and 9, from
// a few bytes (left uncompressed by Erlang) to 100 KB of zeros: each
// decodes to the same term as its plain bytes, Decompress gives exactly
// those bytes, and Compress, like Erlang, compresses when Erlang did at
// the default level, except within a few bytes of the break-even point.
func TestElixirCompressedTerms(t *testing.T) {
	compressed := 0
	for _, term := range loadElixirCompressed(t) {
		for level, h := range term.Compressed {
			t.Run(term.Name+"/"+level, func(t *testing.T) {
				b, err := hex.DecodeString(h)
				require.NoError(t, err)
				plain := inflateIndependently(t, term, b)
				if b[1] == 80 {
					compressed++
				}
				var want, got any
				require.NoError(t, etf.Unmarshal(plain, &want), term.Elixir)
				require.NoError(t, etf.Unmarshal(b, &got), term.Elixir)
				require.Equal(t, want, got)
				var raw etf.RawTerm
				require.NoError(t, etf.Unmarshal(b, &raw))
				require.Equal(t, plain[1:], []byte(raw))
				back, err := etf.Decompress(b)
				require.NoError(t, err)
				require.Equal(t, plain, back)
				if level == "default" {
					// Go's deflate ends its stream with a few more bytes
					// than Erlang's zlib, so right at the break-even point
					// Go may keep a term plain that Erlang compressed.
					goC := etf.Compress(plain)
					if b[1] != 80 || len(b) < len(plain)-8 {
						require.Equal(t, b[1] == 80, goC[1] == 80, "compressed as Erlang did: plain %d, Erlang %d, Go %d bytes", len(plain), len(b), len(goC))
					}
				}
			})
		}
	}
	require.Positive(t, compressed)
}
