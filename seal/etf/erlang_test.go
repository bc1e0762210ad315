package etf_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/seal/etf"
)

// erlReencode is an escript-like loop: each input line is a hex term; each
// output line is binary_to_term then term_to_binary with minor_version 2
// (what OTP 26+ writes) and with minor_version 1 (OTP 25's default, with
// latin-1 atoms as ATOM_EXT), both in hex, or ERR.
const erlReencode = `Loop = fun L() -> case io:get_line("") of
  eof -> ok;
  Line ->
    Out = try
            T = binary_to_term(binary:decode_hex(list_to_binary(string:trim(Line)))),
            [binary:encode_hex(term_to_binary(T, [{minor_version, 2}])), " ",
             binary:encode_hex(term_to_binary(T, [{minor_version, 1}]))]
          catch _:_ -> <<"ERR">> end,
    io:format("~s~n", [Out]),
    L()
  end end,
Loop(), halt().`

func requireErl(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("erl")
	if err != nil {
		if os.Getenv("SEALKIT_REQUIRE_TOOLS") == "1" {
			t.Fatalf("erl not found but SEALKIT_REQUIRE_TOOLS=1: install erlang-base (make deps)")
		}
		t.Skip("erl not installed")
	}
	return path
}

// TestErlangAgreesWithMarshal has real Erlang decode thousands of generated
// terms and encode them again: its bytes must equal Marshal's, and its
// OTP 25 default encoding must decode to the same term. This checks
// the tag choices, big integers, atoms, STRING_EXT and the term order of
// map keys against the reference implementation.
func TestErlangAgreesWithMarshal(t *testing.T) {
	erl := requireErl(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var input bytes.Buffer
	var encoded [][]byte
	for range 3000 {
		seed := make([]byte, 256)
		for i := range seed {
			seed[i] = byte(rng.Uint32())
		}
		b, err := etf.Marshal(genTerm(&termSource{b: seed}, 0))
		require.NoError(t, err)
		encoded = append(encoded, b)
		input.WriteString(hex.EncodeToString(b))
		input.WriteByte('\n')
	}
	// Edge values the generator does not build.
	bytesList := make([]any, 65535)
	for i := range bytesList {
		bytesList[i] = i % 256
	}
	for _, v := range []any{
		etf.Atom(strings.Repeat("é", 255)),
		etf.Atom(strings.Repeat("a", 255)),
		make(etf.Tuple, 256),
		bytesList,
		append(bytesList, 1),
		new(big.Int).Lsh(big.NewInt(1), 255*8),
		new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(3), 300*8)),
		math.Copysign(0, -1),
		math.MaxFloat64,
		math.SmallestNonzeroFloat64,
		etf.Bitstring{Bytes: []byte{1, 2, 0xf0}, TailBits: 4},
		etf.ImproperList{Elems: []any{1, "x"}, Tail: etf.Tuple{}},
		etf.Map{{Key: etf.Tuple{1}, Value: 1}, {Key: etf.Tuple{1.0}, Value: 2}, {Key: []any{}, Value: 3}, {Key: "", Value: 4}, {Key: etf.Atom(""), Value: 5}},
		int64(math.MinInt64), uint64(math.MaxUint64),
		time.Date(2025, 11, 26, 16, 0, 0, 123456789, time.UTC), // a %DateTime{}
		time.Unix(-1, 0),
	} {
		b, err := etf.Marshal(v)
		require.NoError(t, err)
		encoded = append(encoded, b)
		input.WriteString(hex.EncodeToString(b) + "\n")
	}
	// Erlang's own choices for terms the generator does not build.
	for _, h := range []string{
		// #{[1]=>a, [1|2]=>b, [1|a]=>c, [1|<<>>]=>d, [1,2]=>e, [1|{}]=>f, -0.0=>g}
		"83740000000746800000000000000064000168" + "6c0000000161016102640001626c000000016101640001616400016" + "36c00000001610168006400016" + "66b000101640001616b00020102640001656c00000001610" + "16d00000000640001" + "64",
	} {
		b, err := hex.DecodeString(h)
		require.NoError(t, err)
		var v any
		require.NoError(t, etf.Unmarshal(b, &v))
		again, err := etf.Marshal(v)
		require.NoError(t, err)
		encoded = append(encoded, again)
		input.WriteString(hex.EncodeToString(again) + "\n")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, erl, "-noshell", "-eval", erlReencode)
	cmd.Stdin = &input
	out, err := cmd.Output()
	require.NoError(t, err, "erl failed")
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	i := 0
	for sc.Scan() {
		require.Less(t, i, len(encoded))
		var v any
		require.NoError(t, etf.Unmarshal(encoded[i], &v))
		v2, v1, _ := strings.Cut(strings.ToLower(sc.Text()), " ")
		require.Equal(t, hex.EncodeToString(encoded[i]), v2, "term %d: %#v", i, v)

		// Erlang's minor_version 1 bytes decode to the same term.
		old, err := hex.DecodeString(v1)
		require.NoError(t, err)
		var fromOld any
		require.NoError(t, etf.Unmarshal(old, &fromOld), "term %d", i)
		again, err := etf.Marshal(fromOld)
		require.NoError(t, err)
		require.Equal(t, encoded[i], again, "term %d from minor_version 1", i)
		i++
	}
	require.Equal(t, len(encoded), i, "erl answered fewer lines")
}

// atomEncodings returns name in each of the four atom encodings
// binary_to_term accepts: ATOM_EXT (100), SMALL_ATOM_EXT (115),
// ATOM_UTF8_EXT (118) and SMALL_ATOM_UTF8_EXT (119), with the version byte.
func atomEncodings(name string) map[string][]byte {
	n := byte(len(name))
	return map[string][]byte{
		"ATOM_EXT":            append([]byte{131, 100, 0, n}, name...),
		"SMALL_ATOM_EXT":      append([]byte{131, 115, n}, name...),
		"ATOM_UTF8_EXT":       append([]byte{131, 118, 0, n}, name...),
		"SMALL_ATOM_UTF8_EXT": append([]byte{131, 119, n}, name...),
	}
}

// TestEveryAtomEncodingIntoTypedDestinations has real Erlang confirm that
// each encoding of nil, true and false is that atom, then decodes each,
// alone and inside a list, into typed destinations.
func TestEveryAtomEncodingIntoTypedDestinations(t *testing.T) {
	erl := requireErl(t)
	var input bytes.Buffer
	type sample struct {
		atom, enc string
		b         []byte
	}
	var samples []sample
	for _, atom := range []string{"nil", "true", "false"} {
		for enc, b := range atomEncodings(atom) {
			samples = append(samples, sample{atom, enc, b})
			input.WriteString(hex.EncodeToString(b) + "\n")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, erl, "-noshell", "-eval", erlReencode)
	cmd.Stdin = &input
	out, err := cmd.Output()
	require.NoError(t, err, "erl failed")
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, len(samples))
	for i, s := range samples {
		t.Run(s.atom+"/"+s.enc, func(t *testing.T) {
			want := mustMarshal(t, etf.Atom(s.atom))
			v2, _, _ := strings.Cut(strings.ToLower(lines[i]), " ")
			require.Equal(t, hex.EncodeToString(want), v2, "Erlang reads %x as the atom %s", s.b, s.atom)

			// The same atom as the middle element of a list.
			list := append(append([]byte{131, 108, 0, 0, 0, 3, 97, 1}, s.b[1:]...), 97, 2, 106)
			if s.atom == "nil" {
				one := 1
				p := &one
				require.NoError(t, etf.Unmarshal(s.b, &p))
				require.Nil(t, p)
				var ints []*int
				require.NoError(t, etf.Unmarshal(list, &ints))
				require.Equal(t, []*int{ptrTo(1), nil, ptrTo(2)}, ints)
				m := map[string]int{"a": 1}
				require.NoError(t, etf.Unmarshal(s.b, &m))
				require.Nil(t, m)
				return
			}
			b := s.atom == "false"
			require.NoError(t, etf.Unmarshal(s.b, &b))
			require.Equal(t, s.atom == "true", b)
			var a etf.Atom
			require.NoError(t, etf.Unmarshal(s.b, &a))
			require.Equal(t, etf.Atom(s.atom), a)
		})
	}
}
