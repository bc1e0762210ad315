package seal

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"slices"

	"golang.org/x/crypto/chacha20poly1305"
)

// The XCP format of Plug.Crypto 2.x MessageEncryptor:
//
//	"XCP." base64url-nopad(nonce[24] ‖ tag[16] ‖ ciphertext)
//
// XChaCha20-Poly1305 under the PBKDF2-derived 32-byte key, with the fixed
// associated data "A128GCM" (kept by Plug for backwards compatibility).
const (
	xcpPrefix   = "XCP."
	encryptAAD  = "A128GCM"
	nonceSize   = chacha20poly1305.NonceSizeX
	tagSize     = chacha20poly1305.Overhead
	xcpHeadSize = nonceSize + tagSize
)

// b64 is the token alphabet: base64url without padding, rejecting
// non-canonical trailing bits so that every token has one spelling.
var b64 = base64.RawURLEncoding.Strict()

// sealXCP encrypts the payload at buf[xcpHeadSize:] in place, using
// buf[:xcpHeadSize] for the nonce and tag, and returns the token. buf must
// have room for the tag: cap(buf) >= len(buf)+tagSize.
func (s *Sealer) sealXCP(dk *derivedKey, buf []byte) (string, error) {
	nonce := buf[:nonceSize]
	if err := s.readNonce(nonce); err != nil {
		return "", err
	}
	plain := buf[xcpHeadSize:]
	sealed := dk.xcp.Seal(plain[:0], nonce, plain, s.aad)
	n := len(plain)
	copy(buf[nonceSize:xcpHeadSize], sealed[n:])
	return encodeToken(xcpPrefix, buf[:xcpHeadSize+n]), nil
}

func (s *Sealer) readNonce(nonce []byte) error {
	if s.cfg.rand == nil {
		_, _ = rand.Read(nonce) // never fails since Go 1.24
		return nil
	}
	s.randMu.Lock()
	_, err := io.ReadFull(s.cfg.rand, nonce)
	s.randMu.Unlock()
	if err != nil {
		return fmt.Errorf("seal: reading nonce: %w", err)
	}
	return nil
}

// encodeToken returns prefix followed by raw in base64url.
func encodeToken(prefix string, raw []byte) string {
	out := make([]byte, len(prefix)+b64.EncodedLen(len(raw)))
	copy(out, prefix)
	b64.Encode(out[len(prefix):], raw)
	return stringOf(out)
}

// openXCP decrypts body, the token after "XCP.", trying the current key
// base, then the previous ones, and returns the plaintext, which lives in
// *scratch (grown as needed).
func (s *Sealer) openXCP(salt, body string, scratch *[]byte) ([]byte, error) {
	rawLen := b64.DecodedLen(len(body))
	if rawLen < xcpHeadSize {
		return nil, invalid("too short")
	}
	buf := slices.Grow((*scratch)[:0], rawLen+tagSize)[:rawLen+tagSize]
	*scratch = buf
	for i := range s.bases {
		dk, err := s.keys.get(i, salt)
		if err != nil {
			return nil, err
		}
		if dk.xcp == nil {
			return nil, invalid("key length is not 32 bytes")
		}
		// A failed Open clears its output, so decode afresh for every key.
		n, err := b64.Decode(buf, bytesOf(body))
		if err != nil || n != rawLen {
			return nil, invalid("bad base64")
		}
		copy(buf[n:], buf[nonceSize:xcpHeadSize]) // Open wants ciphertext ‖ tag
		sealed := buf[xcpHeadSize : n+tagSize]
		plain, err := dk.xcp.Open(sealed[:0], buf[:nonceSize], sealed, s.aad)
		if err == nil {
			return plain, nil
		}
	}
	return nil, invalid("bad tag")
}

// invalid returns ErrInvalid with a reason that holds no secret.
func invalid(reason string) error {
	return fmt.Errorf("%w: %s", ErrInvalid, reason)
}
