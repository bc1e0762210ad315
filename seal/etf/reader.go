package etf

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"unicode/utf8"
)

// reader walks encoded terms with every length checked against the bytes
// that remain, so a lying length field never causes a large allocation.
type reader struct {
	b     []byte
	off   int
	depth int
	// structural skips do not look for duplicate map keys: comparisons
	// use them on input that was validated already.
	structural bool
}

func (r *reader) errorf(kind error, format string, args ...any) error {
	return errorf(kind, format+" at offset %d", append(args, r.off)...)
}

// errorf wraps kind, one of the sentinel errors, with detail.
func errorf(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)
}

func (r *reader) truncated() error {
	return r.errorf(ErrSyntax, "unexpected end of input")
}

func (r *reader) remaining() int { return len(r.b) - r.off }

// need checks that n more bytes are present.
func (r *reader) need(n int) error {
	if n < 0 || r.remaining() < n {
		return r.truncated()
	}
	return nil
}

func (r *reader) u8() (byte, error) {
	if r.off >= len(r.b) {
		return 0, r.truncated()
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *reader) u16() (int, error) {
	if err := r.need(2); err != nil {
		return 0, err
	}
	n := binary.BigEndian.Uint16(r.b[r.off:])
	r.off += 2
	return int(n), nil
}

func (r *reader) u32() (uint32, error) {
	if err := r.need(4); err != nil {
		return 0, err
	}
	n := binary.BigEndian.Uint32(r.b[r.off:])
	r.off += 4
	return n, nil
}

// count reads a 4-byte element count and checks that at least min bytes
// per element remain.
func (r *reader) count(minPer int) (int, error) {
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	if uint64(n)*uint64(minPer) > uint64(r.remaining()) {
		return 0, r.errorf(ErrSyntax, "length %d exceeds remaining %d bytes", n, r.remaining())
	}
	return int(n), nil
}

// bytes returns the next n bytes, aliased.
func (r *reader) bytes(n int) ([]byte, error) {
	if err := r.need(n); err != nil {
		return nil, err
	}
	b := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return b, nil
}

func (r *reader) enter() error {
	r.depth++
	if r.depth > MaxDepth {
		return r.errorf(ErrLimit, "nesting deeper than %d", MaxDepth)
	}
	return nil
}

func (r *reader) leave() { r.depth-- }

// atomBody reads the text of an atom whose tag was consumed, returning the
// raw bytes and whether they are latin-1 (not UTF-8). It validates length
// and encoding exactly as binary_to_term does.
func (r *reader) atomBody(tag byte) (text []byte, latin1 bool, err error) {
	var n int
	switch tag {
	case tagAtom, tagAtomUTF8:
		n, err = r.u16()
	default:
		var c byte
		c, err = r.u8()
		n = int(c)
	}
	if err != nil {
		return nil, false, err
	}
	text, err = r.bytes(n)
	if err != nil {
		return nil, false, err
	}
	latin1 = tag == tagAtom || tag == tagSmallAtom
	if latin1 {
		if n > maxAtomChars {
			return nil, false, r.errorf(ErrLimit, "atom longer than %d characters", maxAtomChars)
		}
		return text, true, nil
	}
	if !utf8.Valid(text) {
		return nil, false, r.errorf(ErrSyntax, "atom is not valid UTF-8")
	}
	if n > maxAtomChars && utf8.RuneCount(text) > maxAtomChars {
		return nil, false, r.errorf(ErrLimit, "atom longer than %d characters", maxAtomChars)
	}
	return text, false, nil
}

// atomString converts atom bytes to a Go (UTF-8) string.
func atomString(text []byte, latin1 bool) string {
	if !latin1 {
		return string(text)
	}
	ascii := true
	for _, c := range text {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return string(text)
	}
	buf := make([]byte, 0, 2*len(text))
	for _, c := range text {
		buf = utf8.AppendRune(buf, rune(c))
	}
	return string(buf)
}

// atomText reads an atom whose tag was consumed.
func (r *reader) atomText(tag byte) (string, error) {
	text, latin1, err := r.atomBody(tag)
	if err != nil {
		return "", err
	}
	return atomString(text, latin1), nil
}

// integer reads an integer whose tag was consumed. When it fits in int64,
// big is nil.
func (r *reader) integer(tag byte) (small int64, bigv *big.Int, err error) {
	switch tag {
	case tagSmallInteger:
		c, err := r.u8()
		return int64(c), nil, err
	case tagInteger:
		n, err := r.u32()
		return int64(int32(n)), nil, err
	}
	sign, digits, err := r.bigBody(tag)
	if err != nil {
		return 0, nil, err
	}
	if len(trimHigh(digits)) <= 8 {
		var mag uint64
		for i := len(digits) - 1; i >= 0; i-- {
			mag = mag<<8 | uint64(digits[i])
		}
		if sign == 0 && mag <= math.MaxInt64 {
			return int64(mag), nil, nil
		}
		if sign != 0 && mag <= 1<<63 {
			return int64(-mag), nil, nil
		}
	}
	be := make([]byte, len(digits))
	for i, d := range digits {
		be[len(digits)-1-i] = d
	}
	v := new(big.Int).SetBytes(be)
	if sign != 0 {
		v.Neg(v)
	}
	return 0, v, nil
}

// trimHigh drops the most significant zero digits of a little-endian magnitude.
func trimHigh(digits []byte) []byte {
	for len(digits) > 0 && digits[len(digits)-1] == 0 {
		digits = digits[:len(digits)-1]
	}
	return digits
}

// bigBody reads SMALL_BIG_EXT or LARGE_BIG_EXT after the tag: the sign byte
// (non-zero means negative, as binary_to_term reads it) and the
// little-endian digits, aliased.
func (r *reader) bigBody(tag byte) (sign byte, digits []byte, err error) {
	var n int
	if tag == tagSmallBig {
		c, err := r.u8()
		if err != nil {
			return 0, nil, err
		}
		n = int(c)
	} else {
		n, err = r.count(1)
		if err != nil {
			return 0, nil, err
		}
	}
	if sign, err = r.u8(); err != nil {
		return 0, nil, err
	}
	digits, err = r.bytes(n)
	return sign, digits, err
}

// float reads NEW_FLOAT_EXT or FLOAT_EXT after the tag.
func (r *reader) float(tag byte) (float64, error) {
	var f float64
	if tag == tagNewFloat {
		b, err := r.bytes(8)
		if err != nil {
			return 0, err
		}
		f = math.Float64frombits(binary.BigEndian.Uint64(b))
	} else {
		b, err := r.bytes(31)
		if err != nil {
			return 0, err
		}
		end := 0
		for end < len(b) && b[end] != 0 {
			end++
		}
		f, err = strconv.ParseFloat(string(b[:end]), 64)
		if err != nil {
			return 0, r.errorf(ErrSyntax, "bad FLOAT_EXT text")
		}
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, r.errorf(ErrSyntax, "non-finite float")
	}
	return f, nil
}

// bitBinary reads BIT_BINARY_EXT after the tag. The returned bytes are
// aliased; bits is 8 for a whole binary (including the empty one).
func (r *reader) bitBinary() (data []byte, bits byte, err error) {
	n, err := r.count(1)
	if err != nil {
		return nil, 0, err
	}
	if bits, err = r.u8(); err != nil {
		return nil, 0, err
	}
	if n == 0 {
		if bits != 0 {
			return nil, 0, r.errorf(ErrSyntax, "empty bitstring with %d bits", bits)
		}
		return nil, 8, nil
	}
	if bits < 1 || bits > 8 {
		return nil, 0, r.errorf(ErrSyntax, "bitstring tail of %d bits", bits)
	}
	data, err = r.bytes(n)
	return data, bits, err
}

// unsupported builds the error for a tag this package does not decode
// (its tag consumed): a *TagError. A compressed term is only valid at the
// top of a term, where Unmarshal and TupleElements inflate it; a LOCAL_EXT
// term only means something to the VM that wrote it.
func (r *reader) unsupported(tag byte) error {
	r.off--
	switch tag {
	case tagCompressed:
		return tagError(ErrSyntax, tag, r.off, "a compressed term inside another term (Erlang compresses only a whole term)")
	case tagLocal:
		return tagError(ErrUnsupported, tag, r.off, "a local term can only be decoded by the Erlang VM that made it")
	}
	return tagError(ErrUnsupported, tag, r.off, "")
}

var tagNames = [256]string{
	tagCompressed: "compressed term",
	67:            "ATOM_CACHE_REF",
	82:            "ATOM_CACHE_REF",
	88:            "NEW_PID_EXT",
	89:            "NEW_PORT_EXT",
	90:            "NEWER_REFERENCE_EXT",
	101:           "REFERENCE_EXT",
	102:           "PORT_EXT",
	103:           "PID_EXT",
	112:           "NEW_FUN_EXT",
	113:           "EXPORT_EXT",
	114:           "NEW_REFERENCE_EXT",
	117:           "FUN_EXT",
	120:           "V4_PORT_EXT",
	tagLocal:      "LOCAL_EXT",
	68:            "DIST_HEADER",
}

// skip consumes one term, validating it as strictly as decoding does
// (except for duplicate map keys) without allocating.
func (r *reader) skip() error {
	tag, err := r.u8()
	if err != nil {
		return err
	}
	switch tag {
	case tagSmallInteger:
		_, err = r.bytes(1)
	case tagInteger:
		_, err = r.bytes(4)
	case tagSmallBig, tagLargeBig:
		_, _, err = r.bigBody(tag)
	case tagNewFloat, tagFloat:
		_, err = r.float(tag)
	case tagAtom, tagSmallAtom, tagAtomUTF8, tagSmallAtomUTF8:
		_, _, err = r.atomBody(tag)
	case tagBinary:
		var n int
		if n, err = r.count(1); err == nil {
			_, err = r.bytes(n)
		}
	case tagBitBinary:
		_, _, err = r.bitBinary()
	case tagNil:
	case tagString:
		var n int
		if n, err = r.u16(); err == nil {
			_, err = r.bytes(n)
		}
	case tagList:
		err = r.skipSeq(1, 1, true)
	case tagSmallTuple:
		var c byte
		if c, err = r.u8(); err == nil {
			err = r.skipN(int(c))
		}
	case tagLargeTuple:
		err = r.skipSeq(1, 1, false)
	case tagMap:
		err = r.skipMap()
	default:
		return r.unsupported(tag)
	}
	return err
}

// skipMap skips a map body, rejecting duplicate keys as binary_to_term
// does (unless r.structural). Keys Erlang wrote are in term order already,
// which is checked pairwise without allocating; only maps in another order
// collect and sort their keys. Key comparison uses structural readers,
// which do not check nested maps again, so the work stays linear in the
// input size times its depth.
func (r *reader) skipMap() error {
	n, err := r.count(2)
	if err != nil {
		return err
	}
	if err := r.enter(); err != nil {
		return err
	}
	start := r.off
	prev := [2]int{-1, -1}
	var spans [][2]int // collected once the keys turn out unsorted
	for i := range n {
		k := r.off
		if err := r.skip(); err != nil {
			return err
		}
		cur := [2]int{k, r.off}
		switch {
		case r.structural:
		case spans != nil:
			spans = append(spans, cur)
		case prev[0] >= 0 && compareEncoded(r.b[prev[0]:prev[1]], r.b[cur[0]:cur[1]]) >= 0:
			spans = append(r.keySpans(start, i), cur)
		}
		prev = cur
		if err := r.skip(); err != nil {
			return err
		}
	}
	r.leave()
	if spans == nil {
		return nil
	}
	return r.checkDuplicates(spans)
}

// keySpans returns the spans of the first n keys of the (already
// validated) map body at off.
func (r *reader) keySpans(off, n int) [][2]int {
	spans := make([][2]int, 0, n+1)
	sub := reader{b: r.b, off: off, structural: true}
	for range n {
		k := sub.off
		_ = sub.skip()
		spans = append(spans, [2]int{k, sub.off})
		_ = sub.skip()
	}
	return spans
}

// skipSeq skips a 4-byte counted sequence of per terms each (plus a tail).
func (r *reader) skipSeq(minPer, per int, tail bool) error {
	n, err := r.count(minPer)
	if err != nil {
		return err
	}
	if tail {
		n++
	}
	return r.skipN(n * per)
}

func (r *reader) skipN(n int) error {
	if err := r.enter(); err != nil {
		return err
	}
	for range n {
		if err := r.skip(); err != nil {
			return err
		}
	}
	r.leave()
	return nil
}
