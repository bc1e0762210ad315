package etf

// TupleElements splits the tuple that b encodes (b starts with the version
// byte 131, like Unmarshal's input) into its elements without copying them:
// each RawTerm aliases b, so b must stay unchanged while they are in use.
// Every element is checked as decoding into a RawTerm checks it, and
// trailing bytes are rejected. It serves callers that own a large buffer,
// such as a decrypted token, and only need to split it; Unmarshal into a
// []RawTerm gives copies instead. A compressed term is inflated first, as
// Decompress does, and the elements then alias the inflated copy.
func TupleElements(b []byte) ([]RawTerm, error) {
	b, err := topLevel(b)
	if err != nil {
		return nil, err
	}
	r := &reader{b: b, off: 1}
	tag, err := r.u8()
	if err != nil {
		return nil, err
	}
	if tag != tagSmallTuple && tag != tagLargeTuple {
		r.off--
		return nil, r.errorf(ErrType, "tag %d is not a tuple", tag)
	}
	n, err := r.tupleArity(tag)
	if err != nil {
		return nil, err
	}
	// Every element takes at least one byte, so a claimed arity larger
	// than the input fails in the loop before it can reserve memory.
	elems := make([]RawTerm, 0, min(n, r.remaining()))
	for range n {
		start := r.off
		if err := r.skip(); err != nil {
			return nil, err
		}
		elems = append(elems, RawTerm(r.b[start:r.off:r.off]))
	}
	if r.off != len(r.b) {
		return nil, r.errorf(ErrSyntax, "%d trailing bytes", len(r.b)-r.off)
	}
	return elems, nil
}
