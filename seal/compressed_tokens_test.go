package seal

import (
	"bytes"
	"compress/zlib"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/seal/etf"
)

// compressedTokens is testdata/compressed-tokens.json: tokens made by real
// Erlang/OTP exactly as plug_crypto 2.2 makes them with compressed: true,
// and hostile ones; see testdata/compressed-tokens.README.md.
type compressedTokens struct {
	KeyBase string `json:"key_base"`
	Salt    string `json:"salt"`
	NowMs   int64  `json:"now_ms"`
	Terms   []struct {
		Name       string            `json:"name"`
		Compressed map[string]string `json:"compressed_hex"`
	} `json:"terms"`
	Tokens []struct {
		Name       string `json:"name"`
		Kind       string `json:"kind"`
		Term       string `json:"term"`
		Level      string `json:"level"`
		Elixir     string `json:"elixir"`
		Token      string `json:"token"`
		Compressed bool   `json:"compressed"`
		Erlang     string `json:"erlang"`
	} `json:"tokens"`
}

func loadCompressedTokens(t testing.TB) compressedTokens {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "compressed-tokens.json"))
	require.NoError(t, err)
	var file compressedTokens
	require.NoError(t, json.Unmarshal(raw, &file))
	require.NotEmpty(t, file.Tokens)
	return file
}

// plainData returns the data of an Erlang-compressed term, inflated with
// compress/zlib alone (the etf tests check it against Erlang's SHA-256),
// as plain ETF bytes.
func plainData(t *testing.T, h string) []byte {
	t.Helper()
	b, err := hex.DecodeString(h)
	require.NoError(t, err)
	if b[1] != 80 {
		return b
	}
	zr, err := zlib.NewReader(bytes.NewReader(b[6:]))
	require.NoError(t, err)
	inflated, err := io.ReadAll(zr)
	require.NoError(t, err)
	return append([]byte{131}, inflated...)
}

// typedDst returns a new typed destination for the data of a term group.
func typedDst(term string) any {
	type user struct {
		ID    int
		Name  string
		Roles []string
	}
	type launcher struct {
		App  string
		Log  []string
		Step int
		Done bool
		At   time.Time
	}
	switch {
	case strings.HasPrefix(term, "zeros/"), strings.HasPrefix(term, "binary/"):
		return new([]byte)
	case strings.HasPrefix(term, "text/"), term == "list/charlist":
		return new(string)
	case term == "datetime/one":
		return new(time.Time)
	case strings.HasPrefix(term, "datetime/"):
		return new([]time.Time)
	case strings.HasPrefix(term, "map/users-"):
		return new([]user)
	case strings.HasPrefix(term, "list/ints-"):
		return new([]int)
	case term == "list/atoms":
		return new([]etf.Atom)
	case term == "list/floats":
		return new([]float64)
	case term == "list/big-ints":
		return new([]*big.Int)
	case term == "tuple/ok-zeros":
		return new(etf.Tuple)
	case term == "map/settings-50":
		return new(map[etf.Atom]int)
	case term == "map/launcher":
		return new(launcher)
	}
	return nil
}

// TestElixirCompressedTokens opens every token Erlang made as plug_crypto
// 2.2 does with compressed: true (40 terms, levels 6, 1 and 9, encrypt and
// sign): each opens to the same data as the plain term decodes to, into any
// and into a typed destination, whether Erlang compressed it or left it
// plain.
func TestElixirCompressedTokens(t *testing.T) {
	file := loadCompressedTokens(t)
	plain := map[string][]byte{}
	for _, term := range file.Terms {
		plain[term.Name] = plainData(t, term.Compressed["default"])
	}
	now := time.UnixMilli(file.NowMs)
	s, err := New([]byte(file.KeyBase), WithClock(func() time.Time { return now }))
	require.NoError(t, err)
	counts := map[bool]int{}
	for _, tok := range file.Tokens {
		if tok.Term == "" {
			continue
		}
		t.Run(tok.Name, func(t *testing.T) {
			open := s.Decrypt
			if tok.Kind == "sign" {
				open = s.Verify
			}
			counts[tok.Compressed]++
			var want, got any
			require.NoError(t, etf.Unmarshal(plain[tok.Term], &want))
			require.NoError(t, open(file.Salt, tok.Token, &got), tok.Elixir)
			require.Equal(t, want, got)

			wantTyped, gotTyped := typedDst(tok.Term), typedDst(tok.Term)
			require.NotNil(t, wantTyped, "a typed destination for %s", tok.Term)
			require.NoError(t, etf.Unmarshal(plain[tok.Term], wantTyped))
			require.NoError(t, open(file.Salt, tok.Token, gotTyped))
			require.Equal(t, reflect.ValueOf(wantTyped).Elem().Interface(), reflect.ValueOf(gotTyped).Elem().Interface())
		})
	}
	require.Equal(t, 240, counts[true]+counts[false])
	require.Positive(t, counts[true])
	require.Positive(t, counts[false])
	t.Logf("%d compressed and %d plain Erlang-made tokens open", counts[true], counts[false])
}

// TestElixirHostileCompressedTokens opens the hostile tokens Erlang signed
// and encrypted with the real key: compressed payloads that lie about
// their size, zlib bombs, honest 16 MiB and 48 MiB terms (which Erlang
// opens, but which are beyond etf.MaxInflatedSize), cut, corrupt or
// trailing streams (Erlang ignores bytes after the stream; seal does
// not), tag 80 nested, LOCAL_EXT at the top, as data and compressed. Each
// is refused with ErrInvalid wrapping an *etf.TagError whose text says
// "compressed" or "local", leaves dst untouched, in well under 2 s and
// about etf.MaxInflatedSize of memory at most.
func TestElixirHostileCompressedTokens(t *testing.T) {
	file := loadCompressedTokens(t)
	now := time.UnixMilli(file.NowMs)
	s, err := New([]byte(file.KeyBase), WithClock(func() time.Time { return now }))
	require.NoError(t, err)
	hostile := 0
	for _, tok := range file.Tokens {
		if tok.Term != "" {
			continue
		}
		hostile++
		t.Run(tok.Name, func(t *testing.T) {
			open := s.Decrypt
			if tok.Kind == "sign" {
				open = s.Verify
			}
			word, tag := "compressed", byte(80)
			if strings.Contains(tok.Name, "/local-") {
				word, tag = "local", byte(121)
			}
			_ = open(file.Salt, tok.Token, nil) // warm the key cache
			var anyDst any = "untouched"
			dst := struct{ Name string }{"untouched"}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			err := open(file.Salt, tok.Token, &anyDst)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			assert.Less(t, elapsed, 2*time.Second)
			assert.LessOrEqual(t, after.TotalAlloc-before.TotalAlloc, uint64(etf.MaxInflatedSize+256<<10), "bytes allocated")
			require.ErrorIs(t, err, ErrInvalid)
			te, ok := errors.AsType[*etf.TagError](err)
			require.True(t, ok, "%v wraps an *etf.TagError", err)
			require.Equal(t, tag, te.Tag, "%v", err)
			require.Contains(t, err.Error(), word)
			require.ErrorIs(t, open(file.Salt, tok.Token, &dst), ErrInvalid)
			require.Equal(t, any("untouched"), anyDst)
			require.Equal(t, "untouched", dst.Name)
		})
	}
	require.Equal(t, 32, hostile)
}
