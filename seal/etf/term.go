package etf

// Atom is an Erlang atom. The atoms true, false and nil are never decoded as
// Atom (they become Go bool and nil); encoding Atom("true") still writes the
// atom true.
type Atom string

// Tuple is an Erlang tuple.
type Tuple []any

// ImproperList is a list whose tail is not the empty list: [a, b | Tail].
// Encoding one whose Tail is itself a list splices it in, as Erlang would
// ([a | [b]] is [a, b]); one with no Elems encodes as its Tail alone.
type ImproperList struct {
	Elems []any
	Tail  any
}

// RawTerm is one encoded term without the 131 version byte. Marshal writes it
// verbatim after checking that it is exactly one well-formed term; Unmarshal
// into a *RawTerm captures a copy of the bytes of that term. An empty
// RawTerm encodes as the atom nil.
type RawTerm []byte

// Bitstring is an Erlang bitstring whose bit length is not a multiple of 8
// (BIT_BINARY_EXT). TailBits is the number of significant (high) bits in the
// last byte of Bytes, 1 to 8; the unused low bits are written as zero.
// A Bitstring with TailBits 8 is a binary and encodes as one.
type Bitstring struct {
	Bytes    []byte
	TailBits uint8
}

// Pair is one key/value association of a Map.
type Pair struct {
	Key, Value any
}

// Map is an Erlang map as a list of pairs. Decoding into any yields a Map
// when a key cannot be a Go map key by value, for example a tuple, list,
// map, big integer or a zero float. Decoding gives the pairs in Erlang term
// order of their keys (the order term_to_binary writes maps of up to 32
// keys in), and encoding sorts them into that order, as it does for Go maps.
type Map []Pair
