package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"strings"
)

// The A128GCM format of plug_crypto 1.x MessageEncryptor, still found in
// cookies and storage written by older Phoenix apps; it is only opened,
// never written:
//
//	"QTEyOEdDTQ." b64(wrapped CEK) "." b64(iv[12]) "." b64(ciphertext) "." b64(tag[16])
//
// The payload is AES-GCM under a random content encryption key (CEK) with
// associated data "A128GCM"; the CEK is wrapped with AES-GCM under the
// derived key (cut to 32 bytes), with an empty sign secret as associated
// data: wrapped CEK = ciphertext[16|24|32] ‖ tag[16] ‖ iv[12].
const (
	legacyPrefix  = "QTEyOEdDTQ." // base64url("A128GCM") + "."
	gcmNonceSize  = 12
	gcmTagSize    = 16
	legacyMaxKey  = 32
	legacyWrapOvh = gcmTagSize + gcmNonceSize
)

// openLegacy decrypts body, the token after "QTEyOEdDTQ.".
func (s *Sealer) openLegacy(salt, body string) ([]byte, error) {
	parts := strings.SplitN(body, ".", 5)
	if len(parts) != 4 {
		return nil, invalid("legacy token needs 5 parts")
	}
	var raw [4][]byte
	for i, p := range parts {
		b, err := b64.DecodeString(p)
		if err != nil || len(b) != b64.DecodedLen(len(p)) {
			return nil, invalid("bad base64")
		}
		raw[i] = b
	}
	wrapped, iv, ct, tag := raw[0], raw[1], raw[2], raw[3]
	switch {
	case len(iv) != gcmNonceSize, len(tag) != gcmTagSize:
		return nil, invalid("bad legacy nonce or tag size")
	}
	switch len(wrapped) - legacyWrapOvh {
	case 16, 24, 32:
	default:
		return nil, invalid("bad legacy key wrap size")
	}
	sealed := append(ct, tag...)
	for i := range s.bases {
		dk, err := s.keys.get(i, salt)
		if err != nil {
			return nil, err
		}
		cek, ok := unwrapCEK(dk.key, wrapped)
		if !ok {
			continue
		}
		gcm, ok := newGCM(cek)
		if !ok {
			continue
		}
		if plain, err := gcm.Open(nil, iv, sealed, []byte(encryptAAD)); err == nil {
			return plain, nil
		}
	}
	return nil, invalid("bad tag")
}

// unwrapCEK opens the wrapped content encryption key with key, as
// plug_crypto's aes_gcm_key_unwrap with an empty sign secret.
func unwrapCEK(key, wrapped []byte) ([]byte, bool) {
	if len(key) > legacyMaxKey {
		key = key[:legacyMaxKey]
	}
	gcm, ok := newGCM(key)
	if !ok {
		return nil, false
	}
	n := len(wrapped) - legacyWrapOvh
	iv := wrapped[n+gcmTagSize:]
	sealed := append([]byte(nil), wrapped[:n+gcmTagSize]...)
	cek, err := gcm.Open(sealed[:0], iv, sealed, nil)
	return cek, err == nil
}

// newGCM returns AES-GCM for a 16, 24 or 32-byte key.
func newGCM(key []byte) (cipher.AEAD, bool) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, false
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, false
	}
	gcm, err := cipher.NewGCM(block)
	return gcm, err == nil
}
