package seal

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"strings"
)

// The signed format of Plug.Crypto MessageVerifier (a JWS compact
// serialization without a JSON header):
//
//	b64(protected) "." b64(payload) "." b64(HMAC(key, b64(protected) "." b64(payload)))
//
// where protected is "HS256", "HS384" or "HS512" and the key is the whole
// PBKDF2-derived key. Phoenix.Token signs with HS256; all three verify.
const (
	hs256Header = "SFMyNTY" // base64url("HS256")
	hs384Header = "SFMzODQ" // base64url("HS384")
	hs512Header = "SFM1MTI" // base64url("HS512")
)

// signPayload returns the HS256 token for payload.
func signPayload(dk *derivedKey, payload []byte) string {
	const macLen = sha256.Size
	n := len(hs256Header) + 1 + b64.EncodedLen(len(payload))
	out := make([]byte, n+1+b64.EncodedLen(macLen))
	copy(out, hs256Header)
	out[len(hs256Header)] = '.'
	b64.Encode(out[len(hs256Header)+1:n], payload)
	m := hmac.New(sha256.New, dk.key)
	m.Write(out[:n])
	var sum [macLen]byte
	out[n] = '.'
	b64.Encode(out[n+1:], m.Sum(sum[:0]))
	return stringOf(out)
}

// verifySigned checks a signed token, trying the current key base, then the
// previous ones, and returns its payload.
func (s *Sealer) verifySigned(salt, token string) ([]byte, error) {
	if token == "" {
		return nil, ErrMissing
	}
	if len(token) > s.cfg.maxTokenSize {
		return nil, invalid("token too long")
	}
	header, rest, ok := strings.Cut(token, ".")
	if !ok {
		return nil, invalid("not a signed token")
	}
	var h func() hash.Hash
	var size int
	switch header {
	case hs256Header:
		h, size = sha256.New, sha256.Size
	case hs384Header:
		h, size = sha512.New384, sha512.Size384
	case hs512Header:
		h, size = sha512.New, sha512.Size
	default:
		return nil, invalid("not a signed token")
	}
	body, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return nil, invalid("signed token needs 3 parts")
	}
	if len(sig) != b64.EncodedLen(size) {
		return nil, invalid("bad signature length")
	}
	var mac, sum [sha512.Size]byte
	if n, err := b64.Decode(mac[:], bytesOf(sig)); err != nil || n != size {
		return nil, invalid("bad base64")
	}
	signed := token[:len(header)+1+len(body)]
	for i := range s.bases {
		dk, err := s.keys.get(i, salt)
		if err != nil {
			return nil, err
		}
		m := hmac.New(h, dk.key)
		m.Write(bytesOf(signed))
		if hmac.Equal(m.Sum(sum[:0]), mac[:size]) {
			payload := make([]byte, b64.DecodedLen(len(body)))
			if n, err := b64.Decode(payload, bytesOf(body)); err != nil || n != len(payload) {
				return nil, invalid("bad base64")
			}
			return payload, nil
		}
	}
	return nil, invalid("bad signature")
}
