package seal

import "unsafe"

// bytesOf returns the bytes of s without copying, for read-only use (base64
// decoding and hashing of tokens). Nothing may write to the result.
func bytesOf(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// stringOf returns b as a string without copying. b must be a fresh buffer
// that nothing writes to afterwards; it is used for the tokens built here.
func stringOf(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
