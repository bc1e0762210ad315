package etf_test

import (
	"encoding/binary"
	"math"
	"math/big"

	"github.com/sealkit/sealkit/seal/etf"
)

// termSource feeds the term generator from fuzz input or a seeded PRNG;
// once exhausted it yields zeros, which generate small scalars.
type termSource struct {
	b []byte
}

func (s *termSource) byte() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *termSource) bytes(n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = s.byte()
	}
	return out
}

func (s *termSource) uint64() uint64 { return binary.BigEndian.Uint64(s.bytes(8)) }

var interestingInts = []int64{
	0, 1, 255, 256, -1, -255, -256, math.MaxInt32, math.MinInt32,
	math.MaxInt32 + 1, math.MinInt32 - 1, math.MaxInt64, math.MinInt64, 1 << 40, -(1 << 40),
}

var sampleAtoms = []etf.Atom{"ok", "error", "a", "ab", "z", "héllo", "Ω", "ÿ", "ā", "launch_id", "Elixir.Foo", "with space", ""}

// genTerm builds a value in the form Unmarshal into *any produces, so that
// decoding its encoding must give it back unchanged.
func genTerm(s *termSource, depth int) any {
	kinds := byte(15)
	if depth >= 4 {
		kinds = 8 // scalars only
	}
	switch s.byte() % kinds {
	case 0:
		return int64(s.byte())
	case 1:
		return interestingInts[int(s.byte())%len(interestingInts)]
	case 2:
		return int64(s.uint64())
	case 3:
		return genBig(s)
	case 4:
		return genFloat(s, true)
	case 5:
		return string(s.bytes(int(s.byte() % 12)))
	case 6:
		return genAtom(s)
	case 7:
		switch s.byte() % 3 {
		case 0:
			return true
		case 1:
			return false
		}
		return nil
	case 8, 9:
		n := int(s.byte() % 6)
		l := make([]any, n)
		small := s.byte()%2 == 0
		for i := range l {
			if small {
				l[i] = int64(s.byte())
			} else {
				l[i] = genTerm(s, depth+1)
			}
		}
		return l
	case 10:
		t := make(etf.Tuple, int(s.byte()%5))
		for i := range t {
			t[i] = genTerm(s, depth+1)
		}
		return t
	case 11, 12:
		m := map[any]any{}
		for range int(s.byte() % 6) {
			m[genKey(s)] = genTerm(s, depth+1)
		}
		return m
	case 13:
		elems := make([]any, 1+int(s.byte()%3))
		for i := range elems {
			elems[i] = genTerm(s, depth+1)
		}
		var tail any
		switch s.byte() % 4 {
		case 0:
			tail = genAtom(s)
		case 1:
			tail = int64(s.byte())
		case 2:
			tail = string(s.bytes(2))
		default:
			tail = etf.Tuple{genKey(s)}
		}
		return etf.ImproperList{Elems: elems, Tail: tail}
	default:
		b := s.bytes(1 + int(s.byte()%4))
		bits := 1 + s.byte()%7
		b[len(b)-1] &^= 0xff >> bits
		return etf.Bitstring{Bytes: b, TailBits: bits}
	}
}

// genKey builds a key that decodes into a map[any]any key.
func genKey(s *termSource) any {
	switch s.byte() % 6 {
	case 0:
		return int64(s.byte()) - 100
	case 1:
		return interestingInts[int(s.byte())%len(interestingInts)]
	case 2:
		return genFloat(s, false)
	case 3:
		return string(s.bytes(int(s.byte() % 4)))
	case 4:
		return genAtom(s)
	}
	switch s.byte() % 3 {
	case 0:
		return true
	case 1:
		return false
	}
	return nil
}

func genAtom(s *termSource) etf.Atom {
	if c := s.byte(); c < 200 {
		return sampleAtoms[int(c)%len(sampleAtoms)]
	}
	n := 1 + int(s.byte()%8)
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + s.byte()%26
	}
	return etf.Atom(b)
}

func genBig(s *termSource) *big.Int {
	mag := s.bytes(9 + int(s.byte()%24))
	mag[0] |= 1 // at least 65 bits: beyond int64
	v := new(big.Int).SetBytes(mag)
	if s.byte()%2 == 1 {
		v.Neg(v)
	}
	return v
}

func genFloat(s *termSource, allowZero bool) float64 {
	f := math.Float64frombits(s.uint64())
	if math.IsNaN(f) || math.IsInf(f, 0) || (!allowZero && f == 0) {
		return 1.5
	}
	return f
}
