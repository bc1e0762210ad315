// Package etf encodes and decodes Erlang's External Term Format, the bytes
// of :erlang.term_to_binary/1 and binary_to_term/1, exactly as Erlang/OTP 26
// and later write them (minor_version 2), so that Go and Elixir services can
// read each other's Phoenix.Token payloads.
//
// # Decoding into any
//
// Unmarshal into a *any is lossless: Marshal of the result gives the bytes
// term_to_binary gives for the same term, except for the order of map pairs
// described under Map order (maps of more than 32 keys, and atom keys on
// OTP 26 and later).
//
//	Erlang term                       Go value (decoding into any)
//	integer                           int64, or *big.Int beyond int64
//	float                             float64
//	atom true / false                 bool
//	atom nil                          nil
//	other atom                        Atom
//	binary                            string (the bytes, not necessarily UTF-8)
//	bitstring (not whole bytes)       Bitstring
//	[] (NIL_EXT)                      []any{}
//	proper list, incl. STRING_EXT     []any (a charlist gives []any of int64)
//	improper list [a | t]             ImproperList
//	tuple                             Tuple
//	map, keys atoms/binaries/         map[any]any
//	  integers/floats/booleans/nil
//	map with other keys (tuples,      Map (pairs in key term order)
//	  lists, maps, big integers, ±0.0)
//	Elixir struct (%DateTime{}, ...)  map[any]any, like any map; decode into
//	                                    time.Time to convert (see Time)
//
// Binaries decode to string because a string is immutable and compares by
// value; decode into a []byte destination to get bytes. Atom keys and binary
// keys stay distinct: Atom("id") and "id" are different Go map keys.
//
// # Encoding
//
//	Go value                          Erlang term
//	nil, nil pointer/interface        atom nil
//	bool                              atom true / false
//	Atom                              atom (SMALL_ATOM_UTF8_EXT, or ATOM_UTF8_EXT
//	                                    when longer than 255 bytes)
//	string, []byte, [N]byte           binary
//	int*, uint*, *big.Int, big.Int,   integer: SMALL_INTEGER_EXT for 0..255,
//	  time.Duration (nanoseconds)       INTEGER_EXT for int32, SMALL_BIG_EXT or
//	                                    LARGE_BIG_EXT beyond
//	float64, float32                  float (NEW_FLOAT_EXT); NaN and ±Inf fail
//	[]T, [N]T, []any                  list; STRING_EXT when 1..65535 elements
//	                                    are all integers 0..255, as Erlang does;
//	                                    nil and empty slices are []
//	Tuple                             tuple
//	ImproperList                      improper list
//	Bitstring                         bitstring
//	map[K]V, Map                      map with pairs in term order; a nil
//	                                    map is #{}
//	struct                            map with atom keys (see below)
//	RawTerm                           its bytes, once checked to be one term;
//	                                    an empty RawTerm is the atom nil
//	time.Time                         %DateTime{} of the instant in UTC,
//	                                    microsecond precision 6 (see Time)
//
// Go types with no Erlang form (channels, functions, complex numbers) fail
// with ErrUnsupported. Only the exact type Atom encodes as an atom; other
// string types encode as binaries.
//
// # Map order
//
// For maps of up to 32 keys Erlang writes the pairs sorted by key in term
// order, and so does Marshal: integers < floats < atoms < tuples < maps <
// [] < lists < binaries (references, funs, ports and pids, which sit between
// atoms and tuples, are not supported). Integers compare by value, floats
// by value with -0.0 before 0.0, atoms by their UTF-8 text, tuples by size
// then elements, maps by size then keys then values, lists element by
// element, binaries bytewise with a prefix first. Map keys of type
// map[string]T encode as binaries (Elixir string keys), map[Atom]T as atoms.
// For larger maps Erlang uses an internal hash order that this package does
// not reproduce: Marshal uses term order for every size, so a map of more
// than 32 keys decodes to the same term but its bytes differ from Erlang's.
// Keys that are distinct in Go but equal as terms (int 1 and int64 1 in a
// map[any]any) fail with ErrType.
//
// Since OTP 26 (erlang/otp#6151) the VM orders atom keys of small maps by
// their index in its atom table, which differs between VM runs, so Erlang's
// own bytes for atom-keyed maps are not reproducible; Marshal keeps the
// term order OTP 25 used, which is what the interop vectors and Erlang's
// own comparisons give. Decoding accepts pairs in any order, and tokens
// are verified over the bytes as sent, so Go and Elixir still read each
// other's tokens.
//
// # Structs
//
// A struct encodes as a map with atom keys, one per exported field. The key
// is the field's `etf:"name"` tag when present, otherwise the field name in
// snake_case (see SnakeCase: LaunchID → launch_id, URL → url, MachineID →
// machine_id). `etf:"-"` skips a field and `etf:",omitempty"` (or
// `etf:"name,omitempty"`) omits it when it is false, 0, "", a nil pointer or
// interface, or an empty slice, map, array or string. Fields of embedded
// structs (by value, untagged) are promoted with Go's rules, as in
// encoding/json; an embedded pointer is an ordinary field, and so is an
// embedded time.Time or big.Int, which encode as one term each (struct{
// time.Time; Name string } is %{time: ~U[...], name: "x"}). A struct whose
// fields are all unexported (sync.Mutex, for one) fails with ErrUnsupported
// rather than becoming an empty map: convert such values first. time.Time
// is the exception: it is an Elixir DateTime (see Time). Decoding into a
// struct accepts atom or binary keys and ignores unknown keys.
//
// # Time
//
// A time.Time encodes as the %DateTime{} struct Elixir builds for the same
// instant in UTC, as DateTime.utc_now() or DateTime.from_unix!(µs,
// :microsecond) do: a map with the atom keys __struct__
// (:"Elixir.DateTime"), calendar (:"Elixir.Calendar.ISO"), year, month,
// day, hour, minute, second, microsecond ({µs, 6}: precision 6, as
// utc_now gives), time_zone ("Etc/UTC"), zone_abbr ("UTC"), utc_offset (0)
// and std_offset (0). Nanoseconds below the microsecond are dropped, the
// time's own zone is not kept (Elixir needs a time zone database for any
// other), and a time whose UTC year is outside Calendar.ISO's -9999..9999
// fails with ErrType. A time.Time
// destination accepts Elixir's three calendar structs (Calendar.ISO only):
//
//	Elixir term                       time.Time
//	%DateTime{}                       its instant, in time.UTC for Etc/UTC,
//	                                    otherwise in a time.FixedZone named
//	                                    zone_abbr, utc_offset + std_offset
//	                                    seconds east of UTC
//	%NaiveDateTime{}                  its wall clock, read as UTC
//	%Date{}                           midnight UTC that day
//
// The fields are checked as Calendar.ISO checks them (years -9999..9999,
// real days of the month, no leap seconds, microsecond {0..999999, 0..6};
// offsets within a day). Another calendar fails with ErrUnsupported; other
// structs, maps and terms fail with ErrType. A round trip keeps the
// instant to the microsecond.
//
// # Decoding into typed destinations
//
// Unmarshal works like json.Unmarshal: structs, maps with string, Atom or
// other key types (map[string]T keys accept binaries and atoms), slices and
// arrays (from lists or tuples; an array's length must match), string (from
// a binary, a charlist of bytes or []), []byte and [N]byte, every integer
// and float kind (out-of-range values fail with ErrType; floats also accept
// integers), bool, time.Duration (an integer of nanoseconds), time.Time
// (from an Elixir DateTime, NaiveDateTime or Date, see Time), *big.Int,
// pointers (allocated as needed), and any. The atom nil, in any of the four
// atom encodings (OTP 25 writes ATOM_EXT, OTP 26 SMALL_ATOM_UTF8_EXT), sets
// a pointer, slice, map or interface to nil; true, false and other atoms
// decode into bool and Atom in every encoding too. A RawTerm destination captures a copy of
// the term's bytes, so a tuple {data, signed_at, max_age} decodes into a
// []RawTerm whose parts UnmarshalRaw decodes further; TupleElements does
// the same split without copying, its parts aliasing the input. Decoding
// into a Go map or struct does not look for duplicate keys (the last one
// wins); decoding into any, Map or RawTerm rejects them.
//
// # Untrusted input
//
// Decoding never panics. Nesting is limited to MaxDepth (ErrLimit), every
// length is checked against the bytes actually present before anything is
// allocated for it, trailing bytes and duplicate map keys fail with
// ErrSyntax, and tags this package does not handle (pids, ports, references,
// funs, ...) fail with ErrUnsupported naming the tag, whatever the
// destination. LOCAL_EXT terms (tag 121, term_to_binary(T, [local]) on
// OTP 26 and later) fail with ErrUnsupported too: a local term can only be
// decoded by the Erlang VM that made it. Errors about a tag are *TagError
// values, whose text never quotes the input.
//
// # Compressed terms
//
// Unmarshal and TupleElements inflate a compressed term
// (term_to_binary(T, [compressed]): tag 80, the term's size as 4 bytes,
// a zlib stream) with compress/zlib before decoding it, as binary_to_term
// does, within bounds: the declared size must be at most MaxInflatedSize
// (1 MiB; ErrLimit), which is checked before anything is inflated, and
// the inflated bytes are the only allocation that grows with the input
// (zlib's own state is fixed); the stream must inflate to exactly
// the declared size with a valid checksum, and bytes after the stream are
// refused (ErrSyntax; binary_to_term ignores them, but Erlang never writes
// them). Erlang compresses only a whole term, so tag 80 inside a term is
// ErrSyntax. Offsets in errors about the inflated term count from its
// version byte. Decompress gives the inflated bytes, Compress writes a
// compressed term when that is shorter, as term_to_binary(T,
// [compressed]) does; Go's zlib output differs from Erlang's byte for
// byte, but inflates to the same term.
package etf
