// Package msgpack checks MessagePack before anyone decodes it: the one
// guard flylaunch and flysim share against a crafted Fly token.
package msgpack

import "encoding/binary"

// Bounded reports whether b starts with one MessagePack value
// whose every declared length (string, binary, extension, array, map)
// fits in the bytes that follow. A Fly macaroon is MessagePack, and the
// decoder macaroon.Decode uses allocates what a length claims before
// reading it: a 30-byte token claiming a 3 GB binary would take the
// process down (found by flylaunch's FuzzAttenuateToApp). Tokens come from
// visitors, so flylaunch and flysim check each before it is decoded.
func Bounded(b []byte) bool {
	pending := 1 // values still to read
	for pending > 0 {
		if len(b) == 0 {
			return false
		}
		c := b[0]
		b = b[1:]
		pending--
		var skip, items uint64
		var lenBytes int
		switch {
		case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		case c >= 0x80 && c <= 0x8f:
			items = 2 * uint64(c&0x0f)
		case c >= 0x90 && c <= 0x9f:
			items = uint64(c & 0x0f)
		case c >= 0xa0 && c <= 0xbf:
			skip = uint64(c & 0x1f)
		case c == 0xc4 || c == 0xd9:
			lenBytes = 1
		case c == 0xc5 || c == 0xda:
			lenBytes = 2
		case c == 0xc6 || c == 0xdb:
			lenBytes = 4
		case c == 0xc7:
			lenBytes, skip = 1, 1
		case c == 0xc8:
			lenBytes, skip = 2, 1
		case c == 0xc9:
			lenBytes, skip = 4, 1
		case c == 0xca || c == 0xce || c == 0xd2:
			skip = 4
		case c == 0xcb || c == 0xcf || c == 0xd3:
			skip = 8
		case c == 0xcc || c == 0xd0:
			skip = 1
		case c == 0xcd || c == 0xd1:
			skip = 2
		case c >= 0xd4 && c <= 0xd8:
			skip = 1 + 1<<(c-0xd4)
		case c == 0xdc || c == 0xde:
			lenBytes = 2
		case c == 0xdd || c == 0xdf:
			lenBytes = 4
		default: // 0xc1, never used
			return false
		}
		if lenBytes > 0 {
			if len(b) < lenBytes {
				return false
			}
			var n uint64
			switch lenBytes {
			case 1:
				n = uint64(b[0])
			case 2:
				n = uint64(binary.BigEndian.Uint16(b))
			case 4:
				n = uint64(binary.BigEndian.Uint32(b))
			}
			b = b[lenBytes:]
			switch c {
			case 0xdc, 0xdd:
				items = n
			case 0xde, 0xdf:
				items = 2 * n
			default:
				skip += n
			}
		}
		// Every value takes at least a byte: no claim may exceed what is left.
		if skip > uint64(len(b)) || items > uint64(len(b)) {
			return false
		}
		b = b[skip:]
		pending += int(items)
	}
	return true
}
