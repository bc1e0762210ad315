package etf

import (
	"math"
	"math/big"
	"reflect"
)

// typeError reports a term (tag consumed) that does not fit t; a tag this
// package does not decode at all (a pid, a fun) is ErrUnsupported instead,
// whatever the destination.
func (r *reader) typeError(tag byte, t reflect.Type) error {
	if rankOf(tag) == rankInvalid {
		return r.unsupported(tag)
	}
	r.off--
	return r.errorf(ErrType, "cannot decode tag %d into Go %v", tag, t)
}

// nilAtomLen returns the length of the next term when it is the atom nil
// in any of the four atom encodings (OTP 26 writes SMALL_ATOM_UTF8_EXT,
// OTP 25 ATOM_EXT), and 0 otherwise.
func (r *reader) nilAtomLen() int {
	b := r.b[r.off:]
	switch {
	case len(b) >= 5 && (b[0] == tagSmallAtomUTF8 || b[0] == tagSmallAtom) && b[1] == 3 && string(b[2:5]) == "nil":
		return 5
	case len(b) >= 6 && (b[0] == tagAtom || b[0] == tagAtomUTF8) && b[1] == 0 && b[2] == 3 && string(b[3:6]) == "nil":
		return 6
	}
	return 0
}

// decodeValue decodes the next term into v, like json.Unmarshal does.
func (r *reader) decodeValue(v reflect.Value) error {
	t := v.Type()
	switch t {
	case rawTermType:
		var raw RawTerm
		if err := r.raw(&raw); err != nil {
			return err
		}
		v.SetBytes(raw)
		return nil
	case bigIntType:
		return r.decodeBig(v)
	}
	if r.off >= len(r.b) {
		return r.truncated()
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		if n := r.nilAtomLen(); n > 0 {
			r.off += n
			v.SetZero()
			return nil
		}
	}
	switch v.Kind() {
	case reflect.Interface:
		if v.NumMethod() != 0 {
			return r.errorf(ErrType, "cannot decode into non-empty interface %v", t)
		}
		x, err := r.decodeAny()
		if err != nil {
			return err
		}
		if x == nil {
			v.SetZero()
		} else {
			v.Set(reflect.ValueOf(x))
		}
		return nil
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		if err := r.enter(); err != nil {
			return err
		}
		err := r.decodeValue(v.Elem())
		r.leave()
		return err
	}
	tag, _ := r.u8()
	switch v.Kind() {
	case reflect.Bool:
		if !isAtomTag(tag) {
			return r.typeError(tag, t)
		}
		text, _, err := r.atomBody(tag)
		if err != nil {
			return err
		}
		switch string(text) { // ASCII: latin-1 and UTF-8 agree
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return r.errorf(ErrType, "atom is not a boolean")
		}
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if rankOf(tag) != rankInteger {
			return r.typeError(tag, t)
		}
		small, bigv, err := r.integer(tag)
		if err != nil {
			return err
		}
		if bigv != nil || v.OverflowInt(small) {
			return r.errorf(ErrType, "integer overflows Go %v", t)
		}
		v.SetInt(small)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if rankOf(tag) != rankInteger {
			return r.typeError(tag, t)
		}
		small, bigv, err := r.integer(tag)
		if err != nil {
			return err
		}
		var u uint64
		switch {
		case bigv == nil && small >= 0:
			u = uint64(small)
		case bigv != nil && bigv.IsUint64():
			u = bigv.Uint64()
		default:
			return r.errorf(ErrType, "integer overflows Go %v", t)
		}
		if v.OverflowUint(u) {
			return r.errorf(ErrType, "integer overflows Go %v", t)
		}
		v.SetUint(u)
		return nil
	case reflect.Float32, reflect.Float64:
		var f float64
		switch rankOf(tag) {
		case rankFloat:
			x, err := r.float(tag)
			if err != nil {
				return err
			}
			f = x
		case rankInteger:
			small, bigv, err := r.integer(tag)
			if err != nil {
				return err
			}
			f = float64(small)
			if bigv != nil {
				f, _ = new(big.Float).SetInt(bigv).Float64()
			}
		default:
			return r.typeError(tag, t)
		}
		if v.OverflowFloat(f) || math.IsInf(f, 0) {
			return r.errorf(ErrType, "float overflows Go %v", t)
		}
		v.SetFloat(f)
		return nil
	case reflect.String:
		if t == atomType {
			if !isAtomTag(tag) {
				return r.typeError(tag, t)
			}
			s, err := r.atomText(tag)
			if err != nil {
				return err
			}
			v.SetString(s)
			return nil
		}
		b, ok, err := r.binaryLike(tag)
		if err != nil {
			return err
		}
		if !ok {
			return r.typeError(tag, t)
		}
		v.SetString(string(b))
		return nil
	case reflect.Slice:
		return r.decodeSlice(tag, v)
	case reflect.Array:
		return r.decodeArray(tag, v)
	case reflect.Map:
		if tag != tagMap {
			return r.typeError(tag, t)
		}
		return r.decodeMapValue(v)
	case reflect.Struct:
		switch t {
		case timeType:
			if tag != tagMap {
				return r.typeError(tag, t)
			}
			return r.decodeTime(v)
		case bitstringType, improperType:
			r.off--
			x, err := r.decodeAny()
			if err != nil {
				return err
			}
			xv := reflect.ValueOf(x)
			if !xv.IsValid() || xv.Type() != t {
				return r.errorf(ErrType, "term does not decode into Go %v", t)
			}
			v.Set(xv)
			return nil
		}
		if tag != tagMap {
			return r.typeError(tag, t)
		}
		return r.decodeStruct(v)
	}
	return r.errorf(ErrUnsupported, "cannot decode into Go %v", t)
}

func isAtomTag(tag byte) bool { return rankOf(tag) == rankAtom }

func (r *reader) decodeBig(v reflect.Value) error {
	tag, err := r.u8()
	if err != nil {
		return err
	}
	if rankOf(tag) != rankInteger {
		return r.typeError(tag, v.Type())
	}
	small, bigv, err := r.integer(tag)
	if err != nil {
		return err
	}
	dst := v.Addr().Interface().(*big.Int)
	if bigv != nil {
		dst.Set(bigv)
	} else {
		dst.SetInt64(small)
	}
	return nil
}

// binaryLike reads the bytes of a binary, a STRING_EXT or the empty list,
// aliased, for string and []byte destinations. ok is false (and nothing is
// consumed but the tag) for other terms.
func (r *reader) binaryLike(tag byte) (b []byte, ok bool, err error) {
	switch tag {
	case tagBinary:
		n, err := r.count(1)
		if err != nil {
			return nil, false, err
		}
		b, err = r.bytes(n)
		return b, true, err
	case tagBitBinary:
		data, bits, err := r.bitBinary()
		if err != nil {
			return nil, false, err
		}
		if bits != 8 {
			return nil, false, r.errorf(ErrType, "bitstring is not a whole number of bytes")
		}
		return data, true, nil
	case tagString:
		n, err := r.u16()
		if err != nil {
			return nil, false, err
		}
		b, err = r.bytes(n)
		return b, true, err
	case tagNil:
		return nil, true, nil
	}
	return nil, false, nil
}

func (r *reader) decodeSlice(tag byte, v reflect.Value) error {
	t := v.Type()
	switch t {
	case tupleType:
		if tag != tagSmallTuple && tag != tagLargeTuple {
			return r.typeError(tag, t)
		}
		x, err := r.decodeTuple(tag)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(x))
		return nil
	case mapPairsType:
		if tag != tagMap {
			return r.typeError(tag, t)
		}
		pairs, spans, _, err := r.decodePairs()
		if err != nil {
			return err
		}
		if err := r.sortPairs(pairs, spans); err != nil {
			return err
		}
		v.Set(reflect.ValueOf(pairs))
		return nil
	}
	if t.Elem().Kind() == reflect.Uint8 {
		b, ok, err := r.binaryLike(tag)
		if err != nil {
			return err
		}
		if ok {
			v.SetBytes(append(make([]byte, 0, len(b)), b...))
			return nil
		}
	}
	n, err := r.listLength(tag, t)
	if err != nil {
		return err
	}
	// Reuse or grow v's array in place: one allocation, none for the
	// slice header reflect.MakeSlice would box. Elements are appended, so
	// that a list of n one-byte terms cannot make us allocate n large
	// elements up front.
	if n == 0 && v.IsNil() {
		v.Set(reflect.MakeSlice(t, 0, 0)) // [] is empty, not nil
		return r.listElems(tag, 0, v)
	}
	v.SetLen(0)
	v.Grow(preallocCount(n, t.Elem().Size()))
	return r.listElems(tag, n, v)
}

func (r *reader) decodeArray(tag byte, v reflect.Value) error {
	t := v.Type()
	if t.Elem().Kind() == reflect.Uint8 {
		b, ok, err := r.binaryLike(tag)
		if err != nil {
			return err
		}
		if ok {
			if len(b) != v.Len() {
				return r.errorf(ErrType, "%d bytes do not fit Go %v", len(b), t)
			}
			reflect.Copy(v, reflect.ValueOf(b))
			return nil
		}
	}
	n, err := r.listLength(tag, t)
	if err != nil {
		return err
	}
	if n != v.Len() {
		return r.errorf(ErrType, "list of %d elements does not fit Go %v", n, t)
	}
	return r.listElems(tag, n, v)
}

// listLength reads the header of a list or tuple term (tag consumed).
func (r *reader) listLength(tag byte, t reflect.Type) (int, error) {
	switch tag {
	case tagSmallTuple:
		c, err := r.u8()
		if err == nil {
			err = r.need(int(c))
		}
		return int(c), err
	case tagLargeTuple:
		return r.count(1)
	case tagNil:
		return 0, nil
	case tagString:
		n, err := r.u16()
		if err == nil {
			err = r.need(n)
		}
		return n, err
	case tagList:
		return r.count(1)
	}
	return 0, r.typeError(tag, t)
}

// listElems decodes n list or tuple elements into the slice or array s
// and, for LIST_EXT, checks the tail is [].
func (r *reader) listElems(tag byte, n int, s reflect.Value) error {
	if tag == tagNil {
		return nil
	}
	if err := r.enter(); err != nil {
		return err
	}
	appending := s.Kind() == reflect.Slice
	for i := range n {
		if appending {
			if s.Len() == s.Cap() {
				s.Grow(1)
			}
			s.SetLen(i + 1)
			s.Index(i).SetZero()
		}
		if tag == tagString {
			sub := reader{b: []byte{tagSmallInteger, r.b[r.off]}}
			r.off++
			if err := sub.decodeValue(s.Index(i)); err != nil {
				return r.errorf(ErrType, "list element %d: %w", i, err)
			}
			continue
		}
		if err := r.decodeValue(s.Index(i)); err != nil {
			return err
		}
	}
	r.leave()
	if tag == tagList {
		t, err := r.u8()
		if err != nil {
			return err
		}
		if t != tagNil {
			return r.typeError(t, s.Type())
		}
	}
	return nil
}

func (r *reader) decodeMapValue(v reflect.Value) error {
	t := v.Type()
	n, err := r.count(2)
	if err != nil {
		return err
	}
	if err := r.enter(); err != nil {
		return err
	}
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(t, preallocCount(n, t.Key().Size()+t.Elem().Size())))
	}
	kt, et := t.Key(), t.Elem()
	stringKeys := kt.Kind() == reflect.String && kt != atomType
	for range n {
		k := reflect.New(kt).Elem()
		if stringKeys && r.off < len(r.b) && isAtomTag(r.b[r.off]) {
			tag, _ := r.u8()
			s, err := r.atomText(tag)
			if err != nil {
				return err
			}
			k.SetString(s)
		} else if err := r.decodeValue(k); err != nil {
			return err
		}
		e := reflect.New(et).Elem()
		if err := r.decodeValue(e); err != nil {
			return err
		}
		v.SetMapIndex(k, e)
	}
	r.leave()
	return nil
}

// decodeStruct fills the fields of v from a map (tag consumed) whose keys
// are atoms or binaries; other keys and unknown names are skipped.
func (r *reader) decodeStruct(v reflect.Value) error {
	info := structInfoFor(v.Type())
	if info.err != nil {
		return info.err
	}
	n, err := r.count(2)
	if err != nil {
		return err
	}
	if err := r.enter(); err != nil {
		return err
	}
	for range n {
		tag, err := r.u8()
		if err != nil {
			return err
		}
		var name []byte
		var latin1 bool
		switch {
		case isAtomTag(tag):
			name, latin1, err = r.atomBody(tag)
		case tag == tagBinary:
			var l int
			if l, err = r.count(1); err == nil {
				name, err = r.bytes(l)
			}
		default: // not a field name: skip the key and its value
			r.off--
			if err = r.skip(); err == nil {
				err = r.skip()
			}
			if err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		var i int
		var found bool
		if latin1 {
			i, found = info.byName[atomString(name, true)]
		} else {
			i, found = info.byName[string(name)]
		}
		if !found {
			if err := r.skip(); err != nil {
				return err
			}
			continue
		}
		if err := r.decodeValue(fieldOf(v, info.fields[i].index)); err != nil {
			return err
		}
	}
	r.leave()
	return nil
}

// maxPrealloc bounds the bytes reserved up front for a slice or map from
// its length field; beyond it, elements are added as they decode.
const maxPrealloc = 64 << 10

// preallocCount is how many elements of size bytes to reserve for a
// collection that claims n.
func preallocCount(n int, size uintptr) int {
	if size == 0 || uint64(n)*uint64(size) <= maxPrealloc {
		return n
	}
	return int(maxPrealloc / size)
}
