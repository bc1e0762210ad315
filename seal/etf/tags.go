package etf

// MaxDepth is the deepest nesting of lists, tuples and maps (and, when
// encoding, of pointers and structs) that Marshal and Unmarshal accept.
// It bounds the recursion an untrusted input can cause and stops Marshal
// on cyclic pointers.
const MaxDepth = 256

// versionByte starts every term_to_binary output.
const versionByte = 131

// External term format tags.
const (
	tagNewFloat        = 70
	tagBitBinary       = 77
	tagCompressed      = 80
	tagSmallInteger    = 97
	tagInteger         = 98
	tagFloat           = 99
	tagAtom            = 100
	tagSmallTuple      = 104
	tagLargeTuple      = 105
	tagNil             = 106
	tagString          = 107
	tagList            = 108
	tagBinary          = 109
	tagSmallBig        = 110
	tagLargeBig        = 111
	tagMap             = 116
	tagSmallAtom       = 115
	tagAtomUTF8        = 118
	tagSmallAtomUTF8   = 119
	tagLocal           = 121
	maxStringExtLength = 65535
	maxAtomChars       = 255
)
