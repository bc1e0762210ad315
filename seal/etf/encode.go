package etf

import (
	"encoding/binary"
	"math"
	"math/big"
	"math/bits"
	"slices"
	"sync"
	"time"
)

// Marshal returns term_to_binary of v as Erlang/OTP 26 and later write it:
// the version byte 131 followed by the term. See the package documentation
// for how Go values map to terms.
func Marshal(v any) ([]byte, error) {
	bp := bufferPool.Get().(*[]byte)
	b, err := AppendMarshal((*bp)[:0], v)
	var out []byte
	if err == nil {
		out = append(make([]byte, 0, len(b)), b...)
	}
	if cap(b) <= maxPooledBuffer {
		*bp = b
		bufferPool.Put(bp)
	}
	return out, err
}

// bufferPool holds scratch buffers for Marshal, so that encoding grows a
// buffer once per process rather than once per call; Marshal copies the
// result out. Buffers beyond maxPooledBuffer are left to the GC.
var bufferPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

const maxPooledBuffer = 64 << 10

// AppendMarshal appends the version byte and the encoding of v to dst and
// returns the extended slice. On error it returns dst unchanged in length.
func AppendMarshal(dst []byte, v any) ([]byte, error) {
	e := encoder{buf: append(dst, versionByte)}
	if err := e.encode(v); err != nil {
		return dst, err
	}
	return e.buf, nil
}

// encoder appends terms to buf.
type encoder struct {
	buf   []byte
	depth int
}

func (e *encoder) enter() error {
	e.depth++
	if e.depth > MaxDepth {
		return errorf(ErrLimit, "nesting deeper than %d", MaxDepth)
	}
	return nil
}

func (e *encoder) leave() { e.depth-- }

// encode appends v, using type switches for the common types and
// reflection for the rest.
func (e *encoder) encode(v any) error {
	switch x := v.(type) {
	case nil:
		e.buf = appendAtom(e.buf, "nil")
	case bool:
		e.buf = appendBool(e.buf, x)
	case string:
		e.buf = appendBinary(e.buf, x)
	case []byte:
		e.buf = appendBinary(e.buf, x)
	case int:
		e.buf = appendInt(e.buf, int64(x))
	case int64:
		e.buf = appendInt(e.buf, x)
	case int32:
		e.buf = appendInt(e.buf, int64(x))
	case int16:
		e.buf = appendInt(e.buf, int64(x))
	case int8:
		e.buf = appendInt(e.buf, int64(x))
	case uint:
		e.buf = appendUint(e.buf, uint64(x))
	case uint64:
		e.buf = appendUint(e.buf, x)
	case uint32:
		e.buf = appendUint(e.buf, uint64(x))
	case uint16:
		e.buf = appendUint(e.buf, uint64(x))
	case uint8:
		e.buf = appendUint(e.buf, uint64(x))
	case float64:
		return e.float(x)
	case float32:
		return e.float(float64(x))
	case Atom:
		return e.atom(string(x))
	case *big.Int:
		if x == nil {
			e.buf = appendAtom(e.buf, "nil")
		} else {
			e.buf = appendBig(e.buf, x)
		}
	case big.Int:
		e.buf = appendBig(e.buf, &x)
	case Tuple:
		return e.tuple(x)
	case []any:
		return e.list(x)
	case ImproperList:
		return e.improper(x)
	case Bitstring:
		return e.bitstring(x)
	case RawTerm:
		return e.raw(x)
	case Map:
		return e.pairs(x)
	case time.Time:
		return e.time(x)
	case map[string]any:
		return e.stringMap(x)
	case map[Atom]any:
		return e.atomMap(x)
	case map[any]any:
		return e.anyMap(x)
	default:
		return e.value(reflectValueOf(v))
	}
	return nil
}

func (e *encoder) atom(name string) error {
	if err := validAtom(name); err != nil {
		return errorf(err, "atom %q is not valid UTF-8 of at most %d characters", truncateForError(name), maxAtomChars)
	}
	e.buf = appendAtom(e.buf, name)
	return nil
}

func truncateForError(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

func (e *encoder) float(f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return errorf(ErrType, "float %v has no Erlang form", f)
	}
	e.buf = append(e.buf, tagNewFloat)
	e.buf = binary.BigEndian.AppendUint64(e.buf, math.Float64bits(f))
	return nil
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return appendAtom(b, "true")
	}
	return appendAtom(b, "false")
}

func appendBinary[S string | []byte](b []byte, s S) []byte {
	b = append(b, tagBinary)
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// appendInt writes x with the tag Erlang chooses for it.
func appendInt(b []byte, x int64) []byte {
	switch {
	case x >= 0 && x <= 255:
		return append(b, tagSmallInteger, byte(x))
	case x >= math.MinInt32 && x <= math.MaxInt32:
		b = append(b, tagInteger)
		return binary.BigEndian.AppendUint32(b, uint32(int32(x)))
	case x < 0:
		return appendBigMag(b, 1, uint64(-x))
	}
	return appendBigMag(b, 0, uint64(x))
}

func appendUint(b []byte, x uint64) []byte {
	if x <= math.MaxInt64 {
		return appendInt(b, int64(x))
	}
	return appendBigMag(b, 0, x)
}

func appendBigMag(b []byte, sign byte, mag uint64) []byte {
	n := (bits.Len64(mag) + 7) / 8
	b = append(b, tagSmallBig, byte(n), sign)
	for range n {
		b = append(b, byte(mag))
		mag >>= 8
	}
	return b
}

func appendBig(b []byte, x *big.Int) []byte {
	if x.IsInt64() {
		return appendInt(b, x.Int64())
	}
	n := (x.BitLen() + 7) / 8
	var sign byte
	if x.Sign() < 0 {
		sign = 1
	}
	if n <= 255 {
		b = append(b, tagSmallBig, byte(n), sign)
	} else {
		b = append(b, tagLargeBig)
		b = binary.BigEndian.AppendUint32(b, uint32(n))
		b = append(b, sign)
	}
	start := len(b)
	b = slices.Grow(b, n)[:start+n]
	x.FillBytes(b[start:])
	slices.Reverse(b[start:])
	return b
}

func (e *encoder) tuple(t Tuple) error {
	if len(t) <= 255 {
		e.buf = append(e.buf, tagSmallTuple, byte(len(t)))
	} else {
		e.buf = append(e.buf, tagLargeTuple)
		e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(len(t)))
	}
	if err := e.enter(); err != nil {
		return err
	}
	for _, x := range t {
		if err := e.encode(x); err != nil {
			return err
		}
	}
	e.leave()
	return nil
}

// listHeader starts a LIST_EXT of n elements and returns its offset.
func (e *encoder) listHeader(n int) int {
	start := len(e.buf)
	e.buf = append(e.buf, tagList)
	e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(n))
	return start
}

// isSmallAt reports whether the term encoded from p to the end of the
// buffer is a SMALL_INTEGER_EXT.
func (e *encoder) isSmallAt(p int) bool {
	return len(e.buf)-p == 2 && e.buf[p] == tagSmallInteger
}

// finishList ends a proper list of n elements started at start, rewriting
// it as STRING_EXT when every element is an integer 0..255, as Erlang does.
func (e *encoder) finishList(start, n int, allSmall bool) {
	if !allSmall || n > maxStringExtLength {
		e.buf = append(e.buf, tagNil)
		return
	}
	b := e.buf
	b[start] = tagString
	b[start+1], b[start+2] = byte(n>>8), byte(n)
	for i := range n {
		b[start+3+i] = b[start+5+2*i+1]
	}
	e.buf = b[:start+3+n]
}

func (e *encoder) list(l []any) error {
	if len(l) == 0 {
		e.buf = append(e.buf, tagNil)
		return nil
	}
	if err := e.enter(); err != nil {
		return err
	}
	start := e.listHeader(len(l))
	allSmall := true
	for _, x := range l {
		p := len(e.buf)
		if err := e.encode(x); err != nil {
			return err
		}
		allSmall = allSmall && e.isSmallAt(p)
	}
	e.leave()
	e.finishList(start, len(l), allSmall)
	return nil
}

// improper encodes [Elems... | Tail], splicing a list tail in.
func (e *encoder) improper(l ImproperList) error {
	if len(l.Elems) == 0 {
		return e.encode(l.Tail)
	}
	if err := e.enter(); err != nil {
		return err
	}
	start := e.listHeader(len(l.Elems))
	allSmall := true
	for _, x := range l.Elems {
		p := len(e.buf)
		if err := e.encode(x); err != nil {
			return err
		}
		allSmall = allSmall && e.isSmallAt(p)
	}
	tailAt := len(e.buf)
	if err := e.encode(l.Tail); err != nil {
		return err
	}
	e.leave()
	n := len(l.Elems)
	switch e.buf[tailAt] {
	case tagNil:
		e.buf = e.buf[:tailAt]
		e.setListCount(start, n)
		e.finishList(start, n, allSmall)
	case tagString:
		chars := slices.Clone(e.buf[tailAt+3:])
		e.buf = e.buf[:tailAt]
		for _, c := range chars {
			e.buf = append(e.buf, tagSmallInteger, c)
		}
		n += len(chars)
		e.setListCount(start, n)
		e.finishList(start, n, allSmall)
	case tagList:
		m := int(binary.BigEndian.Uint32(e.buf[tailAt+1:]))
		e.buf = append(e.buf[:tailAt], e.buf[tailAt+5:]...)
		e.setListCount(start, n+m)
	}
	return nil
}

func (e *encoder) setListCount(start, n int) {
	binary.BigEndian.PutUint32(e.buf[start+1:], uint32(n))
}

func (e *encoder) bitstring(b Bitstring) error {
	if b.TailBits < 1 || b.TailBits > 8 || len(b.Bytes) == 0 {
		return errorf(ErrType, "bitstring of %d bytes with %d tail bits", len(b.Bytes), b.TailBits)
	}
	if b.TailBits == 8 {
		e.buf = appendBinary(e.buf, b.Bytes)
		return nil
	}
	e.buf = append(e.buf, tagBitBinary)
	e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(len(b.Bytes)))
	e.buf = append(e.buf, b.TailBits)
	e.buf = append(e.buf, b.Bytes...)
	e.buf[len(e.buf)-1] &^= 0xff >> b.TailBits
	return nil
}

func (e *encoder) time(t time.Time) error {
	b, err := appendDateTime(e.buf, t)
	e.buf = b
	return err
}

func (e *encoder) raw(t RawTerm) error {
	if len(t) == 0 {
		// Like a nil json.RawMessage: the zero RawTerm is the atom nil.
		e.buf = appendAtom(e.buf, "nil")
		return nil
	}
	r := reader{b: t}
	if err := r.skip(); err != nil {
		return errorf(ErrSyntax, "invalid RawTerm: %w", err)
	}
	if r.off != len(t) {
		return errorf(ErrSyntax, "RawTerm has %d trailing bytes", len(t)-r.off)
	}
	e.buf = append(e.buf, t...)
	return nil
}
