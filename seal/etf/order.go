package etf

import (
	"bytes"
	"cmp"
	"math"
	"math/big"
)

// Erlang term order classes, in order. Integers sort before floats as in
// map key order (exact comparison), which is what term_to_binary uses to lay
// out maps of up to 32 keys.
const (
	rankInteger = iota
	rankFloat
	rankAtom
	rankTuple
	rankMap
	rankNil
	rankList
	rankBitstring
	rankInvalid
)

func rankOf(tag byte) int {
	switch tag {
	case tagSmallInteger, tagInteger, tagSmallBig, tagLargeBig:
		return rankInteger
	case tagNewFloat, tagFloat:
		return rankFloat
	case tagAtom, tagSmallAtom, tagAtomUTF8, tagSmallAtomUTF8:
		return rankAtom
	case tagSmallTuple, tagLargeTuple:
		return rankTuple
	case tagMap:
		return rankMap
	case tagNil:
		return rankNil
	case tagString, tagList:
		return rankList
	case tagBinary, tagBitBinary:
		return rankBitstring
	}
	return rankInvalid
}

// compareEncoded compares two encoded terms (no version byte) in Erlang's
// exact term order. Both must be well formed; malformed input compares
// without panicking but in no useful order.
func compareEncoded(a, b []byte) int {
	// Fast paths, without a reader, for the usual keys: atoms, binaries
	// and small integers (a and b hold exactly one term each).
	if len(a) >= 2 && len(b) >= 2 && a[0] == b[0] {
		switch a[0] {
		case tagSmallAtomUTF8:
			return bytes.Compare(a[2:], b[2:])
		case tagSmallInteger:
			return cmp.Compare(int(a[1]), int(b[1]))
		case tagBinary:
			if len(a) >= 5 && len(b) >= 5 {
				return bytes.Compare(a[5:], b[5:])
			}
		}
	}
	ra, rb := reader{b: a, structural: true}, reader{b: b, structural: true}
	return compareTerms(&ra, &rb)
}

// compareTerms compares the next term of a and b, consuming both entirely
// when they are equal.
func compareTerms(a, b *reader) int {
	ta, errA := a.u8()
	tb, errB := b.u8()
	if errA != nil || errB != nil {
		return 0
	}
	ka, kb := rankOf(ta), rankOf(tb)
	if ka != kb {
		return cmp.Compare(ka, kb)
	}
	switch ka {
	case rankInteger:
		sa, ba, _ := a.integer(ta)
		sb, bb, _ := b.integer(tb)
		if ba == nil && bb == nil {
			return cmp.Compare(sa, sb)
		}
		if ba == nil {
			ba = big.NewInt(sa)
		}
		if bb == nil {
			bb = big.NewInt(sb)
		}
		return ba.Cmp(bb)
	case rankFloat:
		fa, _ := a.float(ta)
		fb, _ := b.float(tb)
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		// -0.0 sorts before 0.0 (OTP 27 and later tell them apart).
		return cmp.Compare(b2i(!math.Signbit(fa)), b2i(!math.Signbit(fb)))
	case rankAtom:
		xa, la, _ := a.atomBody(ta)
		xb, lb, _ := b.atomBody(tb)
		if !la && !lb {
			return bytes.Compare(xa, xb)
		}
		return cmp.Compare(atomString(xa, la), atomString(xb, lb))
	case rankTuple:
		na, _ := a.tupleArity(ta)
		nb, _ := b.tupleArity(tb)
		if na != nb {
			return cmp.Compare(na, nb)
		}
		for range na {
			if c := compareTerms(a, b); c != 0 {
				return c
			}
		}
		return 0
	case rankMap:
		return compareMaps(a, b)
	case rankNil:
		return 0
	case rankList:
		return compareLists(listIter{r: a, tag: ta}, listIter{r: b, tag: tb})
	case rankBitstring:
		return compareBits(a, ta, b, tb)
	}
	return 0
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// compareMaps compares by size, then keys in order, then values.
func compareMaps(a, b *reader) int {
	na, _ := a.u32()
	nb, _ := b.u32()
	if na != nb {
		return cmp.Compare(int(na), int(nb))
	}
	ka, va, ea := mapLayout(a, int(na))
	kb, vb, eb := mapLayout(b, int(nb))
	for i := range ka {
		ra, rb := reader{b: a.b, off: ka[i], structural: true}, reader{b: b.b, off: kb[i], structural: true}
		if c := compareTerms(&ra, &rb); c != 0 {
			return c
		}
	}
	for i := range va {
		ra, rb := reader{b: a.b, off: va[i], structural: true}, reader{b: b.b, off: vb[i], structural: true}
		if c := compareTerms(&ra, &rb); c != 0 {
			return c
		}
	}
	a.off, b.off = ea, eb
	return 0
}

// mapLayout returns the offsets of each key and value of a map body and the
// offset after it.
func mapLayout(r *reader, n int) (keys, vals []int, end int) {
	if n > r.remaining() {
		return nil, nil, len(r.b)
	}
	keys, vals = make([]int, n), make([]int, n)
	for i := range n {
		keys[i] = r.off
		if r.skip() != nil {
			return nil, nil, len(r.b)
		}
		vals[i] = r.off
		if r.skip() != nil {
			return nil, nil, len(r.b)
		}
	}
	return keys, vals, r.off
}

// listIter walks a STRING_EXT or LIST_EXT as a chain of cons cells.
type listIter struct {
	r       *reader
	tag     byte // tagString or tagList while in the list; 0 at the tail
	left    int  // elements left
	started bool
}

// next reports whether another element follows; if so, the element is
// next in r (for LIST_EXT) or returned as c (for STRING_EXT).
func (it *listIter) next() (c byte, ok bool) {
	for {
		if !it.started {
			it.started = true
			if it.tag == tagString {
				it.left, _ = it.r.u16()
			} else {
				n, _ := it.r.u32()
				it.left = int(n)
			}
		}
		if it.left > 0 || it.tag != tagList {
			break
		}
		// A list tail that is itself a list continues this list.
		if it.r.off < len(it.r.b) {
			if t := it.r.b[it.r.off]; t == tagList || t == tagString {
				it.r.off++
				it.tag, it.started = t, false
				continue
			}
		}
		it.tag = 0 // the tail term follows in r
		return 0, false
	}
	if it.left == 0 {
		return 0, false
	}
	it.left--
	if it.tag == tagString {
		c, _ = it.r.u8()
	}
	return c, true
}

// compareLists compares element-wise; when either side runs out of cons
// cells, the remaining tails are compared as terms ([] for STRING_EXT).
func compareLists(a, b listIter) int {
	for {
		ca, okA := a.next()
		cb, okB := b.next()
		switch {
		case okA && okB:
			if c := compareElems(&a, ca, &b, cb); c != 0 {
				return c
			}
		case !okA && !okB:
			return compareTails(&a, &b)
		case okA: // b ended: its tail against a's rest, a list
			return -compareTailWithList(&b)
		default:
			return compareTailWithList(&a)
		}
	}
}

func compareElems(a *listIter, ca byte, b *listIter, cb byte) int {
	if a.tag == tagString && b.tag == tagString {
		return cmp.Compare(int(ca), int(cb))
	}
	ea, eb := elemReader(a, ca), elemReader(b, cb)
	return compareTerms(ea, eb)
}

// elemReader gives a reader positioned at the current element.
func elemReader(it *listIter, c byte) *reader {
	if it.tag == tagString {
		return &reader{b: []byte{tagSmallInteger, c}}
	}
	return it.r
}

// compareTailWithList compares the tail of an exhausted list against a
// non-empty list.
func compareTailWithList(it *listIter) int {
	if it.tag == tagString {
		return -1 // [] < non-empty list
	}
	if it.r.off >= len(it.r.b) {
		return 0
	}
	tag := it.r.b[it.r.off]
	return cmp.Compare(rankOf(tag), rankList)
}

func compareTails(a, b *listIter) int {
	if a.tag == tagString && b.tag == tagString {
		return 0
	}
	nilTerm := []byte{tagNil}
	ra, rb := a.r, b.r
	if a.tag == tagString {
		ra = &reader{b: nilTerm}
	}
	if b.tag == tagString {
		rb = &reader{b: nilTerm}
	}
	return compareTerms(ra, rb)
}

// compareBits compares binaries and bitstrings bit by bit; a proper prefix
// sorts first.
func compareBits(a *reader, ta byte, b *reader, tb byte) int {
	da, bitsA := readBits(a, ta)
	db, bitsB := readBits(b, tb)
	lenA, lenB := bitLen(da, bitsA), bitLen(db, bitsB)
	common := min(lenA, lenB)
	full := common / 8
	if c := bytes.Compare(da[:full], db[:full]); c != 0 {
		return c
	}
	if rest := common % 8; rest != 0 {
		mask := byte(0xff) << (8 - rest)
		if c := cmp.Compare(int(da[full]&mask), int(db[full]&mask)); c != 0 {
			return c
		}
	}
	return cmp.Compare(lenA, lenB)
}

func readBits(r *reader, tag byte) ([]byte, byte) {
	if tag == tagBinary {
		n, err := r.count(1)
		if err != nil {
			return nil, 8
		}
		d, _ := r.bytes(n)
		return d, 8
	}
	d, bits, _ := r.bitBinary()
	return d, bits
}

func bitLen(d []byte, bits byte) int {
	if len(d) == 0 {
		return 0
	}
	return (len(d)-1)*8 + int(bits)
}
