package etf_test

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/seal/etf"
)

// FuzzUnmarshal feeds arbitrary bytes to every decoding path. None may
// panic; RawTerm validation must accept exactly what decoding into any
// accepts; and whatever decodes must encode and decode again to an equal
// value with identical bytes; TupleElements must split exactly the tuples
// that decode; a time.Time that decodes must survive Marshal. Seeds:
// testdata/fuzz/FuzzUnmarshal (the Phoenix.Token vector terms and
// Erlang-made OTP 25 atoms and Elixir calendar structs among them).
func FuzzUnmarshal(f *testing.F) {
	for _, b := range vectorTerms(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		errAny := etf.Unmarshal(data, &v)
		// A compressed term decodes as its inflated bytes do.
		if plain, err := etf.Decompress(data); err != nil {
			require.Error(t, errAny)
		} else {
			data = plain
		}
		var raw etf.RawTerm
		errRaw := etf.Unmarshal(data, &raw)
		require.Equal(t, errAny == nil, errRaw == nil, "any: %v, raw: %v", errAny, errRaw)
		// Typed destinations must not panic either.
		for _, dst := range []any{
			new(account), new(map[string][]string), new([]etf.RawTerm), new(map[etf.Atom]any),
			new(etf.Map), new(etf.Tuple), new([]int), new(string), new(*big.Int), new([3]uint8),
			new(map[int]float32), new(etf.Bitstring), new(etf.ImproperList), new([]*account),
			new(*time.Time), new(struct {
				At    time.Time
				Times []time.Time
			}),
		} {
			_ = etf.Unmarshal(data, dst)
		}
		// A time.Time that decodes encodes as a UTC DateTime that decodes
		// to the same instant, unless its UTC year is beyond Calendar.ISO's.
		var tm time.Time
		if etf.Unmarshal(data, &tm) == nil {
			b, err := etf.Marshal(tm)
			if y := tm.UTC().Year(); y < -9999 || y > 9999 {
				require.ErrorIs(t, err, etf.ErrType)
			} else {
				require.NoError(t, err)
				var back time.Time
				require.NoError(t, etf.Unmarshal(b, &back))
				require.True(t, tm.Equal(back), "%v != %v", tm, back)
			}
		}
		if elems, err := etf.TupleElements(data); err == nil {
			// Aliased elements are exactly what decoding copies.
			var parts []etf.RawTerm
			require.NoError(t, etf.Unmarshal(data, &parts))
			require.Equal(t, len(parts), len(elems))
			for i := range parts {
				require.Equal(t, parts[i], elems[i])
			}
		} else if len(data) > 1 && (data[1] == 104 || data[1] == 105) {
			require.Error(t, errAny, "TupleElements rejected a tuple that decodes: %v", err)
		}
		if len(data) > 0 && data[0] == 131 {
			var rawAny any
			errRawAny := etf.UnmarshalRaw(etf.RawTerm(data[1:]), &rawAny)
			require.Equal(t, errAny == nil, errRawAny == nil)
		}
		if errAny != nil {
			return
		}
		require.Equal(t, data[1:], []byte(raw))
		again, err := etf.Marshal(v)
		require.NoError(t, err)
		var v2 any
		require.NoError(t, etf.Unmarshal(again, &v2))
		require.Equal(t, v, v2)
		third, err := etf.Marshal(v2)
		require.NoError(t, err)
		require.Equal(t, again, third)
	})
}

type fuzzRecord struct {
	Name    string
	Count   int64
	Ratio   float64
	Blob    []byte
	On      bool
	Tags    []string
	At      time.Time
	Payload any
}

// FuzzRoundTrip builds values from the fuzz input (see genTerm), encodes
// them and checks that decoding gives them back, both into any and into a
// struct.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{8, 3, 1, 2, 3, 4, 5, 6, 7})
	f.Add([]byte{11, 4, 0, 5, 4, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{13, 2, 6, 250, 3, 10, 2, 3, 1, 2, 14, 3, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &termSource{b: data}
		v := genTerm(src, 0)
		b, err := etf.Marshal(v)
		require.NoError(t, err)
		var got any
		require.NoError(t, etf.Unmarshal(b, &got))
		require.Equal(t, v, got)

		rec := fuzzRecord{
			Name:    string(src.bytes(int(src.byte() % 16))),
			Count:   int64(src.uint64()),
			Ratio:   math.Float64frombits(src.uint64()),
			Blob:    src.bytes(int(src.byte() % 8)),
			On:      src.byte()%2 == 0,
			Tags:    []string{string(src.bytes(2)), string(src.bytes(1))},
			At:      fuzzTime(src.uint64()),
			Payload: genTerm(src, 2),
		}
		if math.IsNaN(rec.Ratio) || math.IsInf(rec.Ratio, 0) {
			rec.Ratio = 0
		}
		b, err = etf.Marshal(rec)
		require.NoError(t, err)
		var back fuzzRecord
		require.NoError(t, etf.Unmarshal(b, &back))
		require.Equal(t, rec, back)
	})
}

// fuzzTime maps u to a time in Calendar.ISO's years, to the microsecond,
// in UTC: what a DateTime decodes to.
func fuzzTime(u uint64) time.Time {
	lo := time.Date(-9999, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	hi := time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro()
	return time.UnixMicro(lo + int64(u%uint64(hi-lo+1))).UTC()
}

// FuzzCompressed wraps arbitrary bytes as the zlib stream of a compressed
// term (131, 80, declared size, stream) and deflates the input as a term
// of its own: decoding never panics, fails unless the stream inflates to
// exactly the declared size within MaxInflatedSize, and otherwise agrees
// with decoding the inflated bytes; Compress always inflates back to its
// input. Seeds: testdata/fuzz/FuzzCompressed and the vector terms.
func FuzzCompressed(f *testing.F) {
	for _, b := range vectorTerms(f) {
		f.Add(uint32(len(b)-1), deflateSeed(b[1:]), b)
	}
	f.Add(uint32(1<<30), deflateSeed(make([]byte, 4096)), []byte{131, 97, 1})
	f.Add(uint32(3), []byte{0x78, 0x9c, 0xff}, []byte{131, 121, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, declared uint32, stream, term []byte) {
		in := binary.BigEndian.AppendUint32([]byte{131, 80}, declared)
		in = append(in, stream...)
		var v any
		err := etf.Unmarshal(in, &v)
		plain, errZ := etf.Decompress(in)
		if errZ != nil {
			require.Error(t, err)
			var te *etf.TagError
			require.ErrorAs(t, errZ, &te)
			require.Equal(t, byte(80), te.Tag)
			require.Contains(t, errZ.Error(), "compressed")
		} else {
			require.Equal(t, int(declared)+1, len(plain))
			require.LessOrEqual(t, int(declared), etf.MaxInflatedSize)
			var w any
			errPlain := etf.Unmarshal(plain, &w)
			require.Equal(t, errPlain == nil, err == nil, "compressed: %v, inflated: %v", err, errPlain)
			if err == nil {
				require.Equal(t, w, v)
			}
		}
		_, _ = etf.TupleElements(in)

		c := etf.Compress(term)
		back, err := etf.Decompress(c)
		if len(term) > 1 && term[1] == 80 {
			return // compressed already: Compress leaves it alone
		}
		require.NoError(t, err)
		require.Equal(t, term, back)
	})
}

// deflateSeed returns the zlib stream of b at the default level.
func deflateSeed(b []byte) []byte {
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}
