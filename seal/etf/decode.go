package etf

import (
	"reflect"
	"slices"
)

// Unmarshal decodes b, the output of term_to_binary (starting with the
// version byte 131), into the value v points to. It rejects trailing bytes.
// A compressed term (term_to_binary(T, [compressed])) is inflated first,
// as Decompress does, and v is untouched when that fails. See the package
// documentation for how terms map to Go types.
func Unmarshal(b []byte, v any) error {
	b, err := topLevel(b)
	if err != nil {
		return err
	}
	return decodeAll(&reader{b: b, off: 1}, v)
}

// topLevel checks the version byte of b and inflates a compressed term.
func topLevel(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, (&reader{}).truncated()
	}
	if b[0] != versionByte {
		r := reader{b: b}
		return nil, r.errorf(ErrSyntax, "version byte %d, want %d", b[0], versionByte)
	}
	if len(b) > 1 && b[1] == tagCompressed {
		return inflate(b)
	}
	return b, nil
}

// UnmarshalRaw is like Unmarshal for a RawTerm, which has no version byte.
func UnmarshalRaw(r RawTerm, v any) error {
	return decodeAll(&reader{b: r}, v)
}

func decodeAll(r *reader, v any) error {
	switch p := v.(type) {
	case *any:
		if p == nil {
			return r.errorf(ErrType, "destination %T is nil", v)
		}
		x, err := r.decodeAny()
		if err == nil {
			err = r.end()
		}
		if err == nil {
			*p = x
		}
		return err
	case *RawTerm:
		if p == nil {
			return r.errorf(ErrType, "destination %T is nil", v)
		}
		var raw RawTerm
		err := r.raw(&raw)
		if err == nil {
			err = r.end()
		}
		if err == nil {
			*p = raw
		}
		return err
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return r.errorf(ErrType, "destination %T is not a non-nil pointer", v)
	}
	if err := r.decodeValue(rv.Elem()); err != nil {
		return err
	}
	return r.end()
}

// end rejects bytes after the term.
func (r *reader) end() error {
	if r.off != len(r.b) {
		return r.errorf(ErrSyntax, "%d trailing bytes", len(r.b)-r.off)
	}
	return nil
}

// raw captures a copy of the next term's bytes.
func (r *reader) raw(p *RawTerm) error {
	start := r.off
	if err := r.skip(); err != nil {
		return err
	}
	*p = append(RawTerm(nil), r.b[start:r.off]...)
	return nil
}

// atomValue maps atom text to its Go value when decoding into any.
func atomValue(s string) any {
	switch s {
	case "true":
		return true
	case "false":
		return false
	case "nil":
		return nil
	}
	return Atom(s)
}

// decodeAny decodes the next term into its lossless Go form.
func (r *reader) decodeAny() (any, error) {
	tag, err := r.u8()
	if err != nil {
		return nil, err
	}
	switch tag {
	case tagSmallInteger, tagInteger, tagSmallBig, tagLargeBig:
		small, bigv, err := r.integer(tag)
		if err != nil {
			return nil, err
		}
		if bigv != nil {
			return bigv, nil
		}
		return small, nil
	case tagNewFloat, tagFloat:
		return r.float(tag)
	case tagAtom, tagSmallAtom, tagAtomUTF8, tagSmallAtomUTF8:
		text, latin1, err := r.atomBody(tag)
		if err != nil {
			return nil, err
		}
		return atomValue(atomString(text, latin1)), nil
	case tagBinary:
		n, err := r.count(1)
		if err != nil {
			return nil, err
		}
		b, err := r.bytes(n)
		return string(b), err
	case tagBitBinary:
		data, bits, err := r.bitBinary()
		if err != nil {
			return nil, err
		}
		if bits == 8 {
			return string(data), nil
		}
		out := slices.Clone(data)
		out[len(out)-1] &^= 0xff >> bits
		return Bitstring{Bytes: out, TailBits: bits}, nil
	case tagNil:
		return []any{}, nil
	case tagString:
		n, err := r.u16()
		if err != nil {
			return nil, err
		}
		b, err := r.bytes(n)
		if err != nil {
			return nil, err
		}
		out := make([]any, n)
		for i, c := range b {
			out[i] = int64(c)
		}
		return out, nil
	case tagList:
		return r.decodeList()
	case tagSmallTuple, tagLargeTuple:
		return r.decodeTuple(tag)
	case tagMap:
		return r.decodeMap()
	}
	return nil, r.unsupported(tag)
}

func (r *reader) tupleArity(tag byte) (int, error) {
	if tag == tagSmallTuple {
		c, err := r.u8()
		return int(c), err
	}
	return r.count(1)
}

func (r *reader) decodeTuple(tag byte) (any, error) {
	n, err := r.tupleArity(tag)
	if err != nil {
		return nil, err
	}
	if err := r.need(n); err != nil {
		return nil, err
	}
	if err := r.enter(); err != nil {
		return nil, err
	}
	t := make(Tuple, n)
	for i := range t {
		if t[i], err = r.decodeAny(); err != nil {
			return nil, err
		}
	}
	r.leave()
	return t, nil
}

// decodeList decodes LIST_EXT, normalising a list tail into the list as
// binary_to_term does ([1 | [2]] is [1, 2]).
func (r *reader) decodeList() (any, error) {
	n, err := r.count(1)
	if err != nil {
		return nil, err
	}
	if err := r.enter(); err != nil {
		return nil, err
	}
	elems := make([]any, n)
	for i := range elems {
		if elems[i], err = r.decodeAny(); err != nil {
			return nil, err
		}
	}
	tail, err := r.decodeAny()
	if err != nil {
		return nil, err
	}
	r.leave()
	switch t := tail.(type) {
	case []any:
		return append(elems, t...), nil
	case ImproperList:
		return ImproperList{Elems: append(elems, t.Elems...), Tail: t.Tail}, nil
	}
	if n == 0 {
		return tail, nil
	}
	return ImproperList{Elems: elems, Tail: tail}, nil
}

// decodeMap decodes MAP_EXT into map[any]any when every key can be a Go map
// key by value, and into Map (in term order of keys) otherwise. Duplicate keys are an error, as in
// binary_to_term.
func (r *reader) decodeMap() (any, error) {
	pairs, spans, hashable, err := r.decodePairs()
	if err != nil {
		return nil, err
	}
	if hashable {
		m := make(map[any]any, len(pairs))
		for _, p := range pairs {
			m[p.Key] = p.Value
		}
		if len(m) == len(pairs) {
			return m, nil
		}
	}
	if err := r.sortPairs(pairs, spans); err != nil {
		return nil, err
	}
	return pairs, nil
}

// decodePairs decodes the pairs of a MAP_EXT (tag consumed) in wire order,
// with the byte span of each key, and reports whether every key can be a
// Go map key by value.
func (r *reader) decodePairs() (pairs Map, spans [][2]int, hashable bool, err error) {
	n, err := r.count(2)
	if err != nil {
		return nil, nil, false, err
	}
	if err := r.enter(); err != nil {
		return nil, nil, false, err
	}
	pairs = make(Map, n)
	spans = make([][2]int, n)
	hashable = true
	for i := range pairs {
		start := r.off
		if pairs[i].Key, err = r.decodeAny(); err != nil {
			return nil, nil, false, err
		}
		spans[i] = [2]int{start, r.off}
		if pairs[i].Value, err = r.decodeAny(); err != nil {
			return nil, nil, false, err
		}
		switch k := pairs[i].Key.(type) {
		case Atom, string, int64, bool, nil:
		case float64:
			// 0.0 and -0.0 are distinct keys in Erlang but equal in Go.
			hashable = hashable && k != 0
		default:
			hashable = false
		}
	}
	r.leave()
	return pairs, spans, hashable, nil
}

// sortPairs puts pairs (whose keys lie at spans of r.b) into term order of
// their keys and reports keys that are equal in Erlang's exact term order.
// Erlang writes maps of up to 32 keys in this order already, which is
// checked first.
func (r *reader) sortPairs(pairs Map, spans [][2]int) error {
	key := func(i int) []byte { return r.b[spans[i][0]:spans[i][1]] }
	sorted := true
	for i := 1; i < len(pairs); i++ {
		if c := compareEncoded(key(i-1), key(i)); c == 0 {
			return r.errorf(ErrSyntax, "duplicate map key")
		} else if c > 0 {
			sorted = false
		}
	}
	if sorted {
		return nil
	}
	idx := make([]int, len(pairs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return compareEncoded(key(a), key(b)) })
	for i := 1; i < len(idx); i++ {
		if compareEncoded(key(idx[i-1]), key(idx[i])) == 0 {
			return r.errorf(ErrSyntax, "duplicate map key")
		}
	}
	orig := slices.Clone(pairs)
	for i, j := range idx {
		pairs[i] = orig[j]
	}
	return nil
}

// checkDuplicates reports keys (given as byte spans of r.b) that are equal
// in Erlang's exact term order.
func (r *reader) checkDuplicates(spans [][2]int) error {
	keys := make([][]byte, len(spans))
	for i, s := range spans {
		keys[i] = r.b[s[0]:s[1]]
	}
	slices.SortFunc(keys, compareEncoded)
	for i := 1; i < len(keys); i++ {
		if compareEncoded(keys[i-1], keys[i]) == 0 {
			return r.errorf(ErrSyntax, "duplicate map key")
		}
	}
	return nil
}
