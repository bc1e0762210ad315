package etf

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MaxInflatedSize is the largest term, in bytes once inflated, that a
// compressed term (term_to_binary(T, [compressed]), tag 80) may declare:
// 1 MiB. Unmarshal, TupleElements and Decompress check the declared size
// against it before inflating anything and fail with ErrLimit above it, so
// a compressed term never costs more than this much memory whatever its
// zlib stream holds. A 64 KiB Phoenix token can carry far more (Erlang
// itself opens one that inflates to 48 MiB); terms that large are refused.
const MaxInflatedSize = 1 << 20

// compressedHeadSize is the version byte, tag 80 and the 4-byte size.
const compressedHeadSize = 6

// Decompress returns b, the output of term_to_binary(T, [compressed]), as
// term_to_binary(T) writes it: the version byte 131 followed by the
// inflated term. Input that is not compressed is returned as it is. The
// declared size must be at most MaxInflatedSize (ErrLimit) and the zlib
// stream must inflate to exactly that many bytes, with a valid checksum
// and nothing after it (ErrSyntax): binary_to_term ignores bytes after the
// stream, this package refuses them, as it refuses trailing bytes after
// any term. Only the inflated bytes are allocated. Errors are *TagError
// values naming tag 80.
func Decompress(b []byte) ([]byte, error) {
	if len(b) < 2 || b[0] != versionByte || b[1] != tagCompressed {
		return b, nil
	}
	return inflate(b)
}

// inflate inflates b, a compressed term with its version byte and tag.
func inflate(b []byte) ([]byte, error) {
	fail := func(kind error, reason string, args ...any) error {
		return tagError(kind, tagCompressed, 1, reason, args...)
	}
	if len(b) < compressedHeadSize {
		return nil, fail(ErrSyntax, "no uncompressed size")
	}
	size := binary.BigEndian.Uint32(b[2:compressedHeadSize])
	if size > MaxInflatedSize {
		return nil, fail(ErrLimit, "declares %d bytes, above the cap of %d", size, MaxInflatedSize)
	}
	src := bytes.NewReader(b[compressedHeadSize:])
	zr, err := zlib.NewReader(src) // src is an io.ByteReader: no read-ahead
	if err != nil {
		return nil, fail(ErrSyntax, "bad zlib header")
	}
	out := make([]byte, 1+size)
	out[0] = versionByte
	if _, err := io.ReadFull(zr, out[1:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fail(ErrSyntax, "zlib stream ends before the %d declared bytes", size)
		}
		return nil, fail(ErrSyntax, "corrupt zlib stream")
	}
	// One more read must end the stream, which also checks its checksum.
	var extra [1]byte
	switch n, err := io.ReadFull(zr, extra[:]); {
	case n > 0:
		return nil, fail(ErrSyntax, "zlib stream inflates to more than the %d declared bytes", size)
	case !errors.Is(err, io.EOF):
		return nil, fail(ErrSyntax, "corrupt zlib stream")
	case src.Len() > 0:
		return nil, fail(ErrSyntax, "%d bytes after the zlib stream", src.Len())
	case size > 0 && out[1] == tagCompressed:
		return nil, tagError(ErrSyntax, tagCompressed, 1, "a compressed term inside another term (Erlang compresses only a whole term)")
	}
	return out, nil
}

// Compress returns b, the output of Marshal or term_to_binary(T), as
// term_to_binary(T, [compressed]) writes it when that is shorter: the
// version byte, tag 80, the term's size (4 bytes, big-endian) and the
// term deflated by compress/zlib at its default level (6, as Erlang's
// default). Like Erlang, it returns b itself when compressing does not make
// it shorter, and terms above MaxInflatedSize are returned as they are,
// since a reader of this package would refuse them compressed. Go's zlib
// does not write the bytes Erlang's zlib writes, but every zlib reader,
// binary_to_term among them, inflates them to the same term.
func Compress(b []byte) []byte {
	if len(b) < 2 || b[0] != versionByte || b[1] == tagCompressed || len(b)-1 > MaxInflatedSize {
		return b
	}
	term := b[1:]
	var out bytes.Buffer
	out.Grow(len(b))
	out.Write([]byte{versionByte, tagCompressed})
	out.Write(binary.BigEndian.AppendUint32(nil, uint32(len(term))))
	zw := zlib.NewWriter(&out)
	_, _ = zw.Write(term) // writes to a bytes.Buffer do not fail
	_ = zw.Close()
	if out.Len() >= len(b) {
		return b
	}
	return out.Bytes()
}

// A TagError reports a term refused because of its tag: a compressed term
// (tag 80) that is malformed, larger than MaxInflatedSize or nested inside
// another term; a LOCAL_EXT term (tag 121), which only the Erlang VM that
// made it can decode; or a pid, port, reference, fun or unknown tag. It
// wraps one of the sentinel errors (Kind), and its text holds the tag,
// a fixed reason and sizes, never bytes of the input, so a caller may
// show it where the input's content must not appear.
type TagError struct {
	Kind   error  // ErrSyntax, ErrLimit or ErrUnsupported
	Tag    byte   // the term's tag
	Offset int    // where the term starts (inside the inflated term, for one nested in a compressed term)
	Reason string // what is wrong, or "" when the tag is merely unsupported
}

func (e *TagError) Error() string {
	name := tagNames[e.Tag]
	if name == "" {
		name = "unknown"
	}
	reason := ""
	if e.Reason != "" {
		reason = ": " + e.Reason
	}
	return fmt.Sprintf("%v: tag %d (%s)%s at offset %d", e.Kind, e.Tag, name, reason, e.Offset)
}

// Unwrap returns the sentinel error.
func (e *TagError) Unwrap() error { return e.Kind }

func tagError(kind error, tag byte, off int, reason string, args ...any) *TagError {
	if len(args) > 0 {
		reason = fmt.Sprintf(reason, args...)
	}
	return &TagError{Kind: kind, Tag: tag, Offset: off, Reason: reason}
}
