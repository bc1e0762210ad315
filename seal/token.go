package seal

import (
	"reflect"
	"slices"
)

// maxPooledBuffer is the largest scratch buffer kept for reuse.
const maxPooledBuffer = 64 << 10

// Encrypt seals data into an "XCP." token that only holders of the key base
// can read, as Phoenix.Token.encrypt(key_base, secret, data, opts) does;
// secret names the purpose and binds the token to it. data is encoded in
// Erlang's External Term Format (see package etf), so Elixir reads it as the
// matching term. Options: [MaxAge], [NoMaxAge], [SignedAt], [Compressed].
// Encrypt needs the default key length of 32 bytes. Data etf cannot encode
// gives an error wrapping the etf sentinel with etf's detail (the Go type or
// value at fault).
func (s *Sealer) Encrypt(secret string, data any, opts ...TokenOption) (string, error) {
	tc, err := tokenOptions(opts, true)
	if err != nil {
		return "", err
	}
	dk, err := s.keys.get(0, secret)
	if err != nil {
		return "", err
	}
	if dk.xcp == nil {
		return "", optionError("Encrypt needs KeyLength 32, not %d", s.cfg.length)
	}
	bp := s.buffer()
	buf, err := s.appendPayload((*bp)[:xcpHeadSize], data, tc)
	if err != nil {
		clear(buf) // a partial plaintext
		s.release(bp, buf)
		return "", err
	}
	buf = slices.Grow(buf, tagSize)
	tok, err := s.sealXCP(dk, buf)
	s.release(bp, buf)
	return tok, err
}

// Decrypt opens a token made by [Sealer.Encrypt] or Phoenix.Token.encrypt
// under the same secret (purpose), checks its age, and decodes its data into
// dst as json.Unmarshal would: dst is a pointer to a struct, map, slice,
// string, number or any. A nil dst only checks the token. It also opens
// plug_crypto 1.x "QTEyOEdDTQ." tokens, and tries the previous key bases.
//
// Errors wrap [ErrMissing] (empty token), [ErrExpired], or [ErrInvalid]
// (anything else about the token, including data that does not fit dst; that
// error also wraps the etf sentinel, such as etf.ErrType, or
// etf.ErrUnsupported for data holding a pid, reference, port or fun, which
// has no Go form and fails before the age is checked). dst is untouched
// unless the token is authentic and within its max age; data that does not
// fit may leave dst partly filled, as with json.Unmarshal.
// Option: [MaxAge] or [NoMaxAge] override the max age embedded in the token.
func (s *Sealer) Decrypt(secret, token string, dst any, opts ...TokenOption) error {
	tc, err := s.openOptions(dst, opts)
	if err != nil {
		return err
	}
	// The scratch buffer is reused once the payload is decoded: the tuple's
	// parts alias it only inside openPayload, and etf copies everything it
	// decodes into dst (strings, []byte, RawTerm), so nothing outlives it.
	bp := s.buffer()
	payload, err := s.openEncrypted(secret, token, bp)
	if err == nil {
		err = s.openPayload(payload, dst, tc)
	}
	clear(*bp) // no plaintext lingers in the pool
	s.release(bp, *bp)
	return err
}

// Sign encodes data into an "SFMyNTY." token signed with HMAC-SHA256, as
// Phoenix.Token.sign(key_base, salt, data, opts) does. The data is readable
// by anyone who has the token (it is only base64), but cannot be changed or
// forged without the key base; use [Sealer.Encrypt] to hide it. Options:
// [MaxAge], [NoMaxAge], [SignedAt], [Compressed]. Signing is deterministic: the same data,
// time and max age give the same token.
func (s *Sealer) Sign(salt string, data any, opts ...TokenOption) (string, error) {
	tc, err := tokenOptions(opts, true)
	if err != nil {
		return "", err
	}
	dk, err := s.keys.get(0, salt)
	if err != nil {
		return "", err
	}
	bp := s.buffer()
	payload, err := s.appendPayload((*bp)[:0], data, tc)
	if err != nil {
		s.release(bp, payload)
		return "", err
	}
	tok := signPayload(dk, payload)
	s.release(bp, payload)
	return tok, nil
}

// Verify checks a token made by [Sealer.Sign] or Phoenix.Token.sign under
// the same salt (HS256, and also HS384 and HS512 signatures), checks its age,
// and decodes its data into dst as [Sealer.Decrypt] does, with the same
// errors and options.
func (s *Sealer) Verify(salt, token string, dst any, opts ...TokenOption) error {
	tc, err := s.openOptions(dst, opts)
	if err != nil {
		return err
	}
	payload, err := s.verifySigned(salt, token)
	if err != nil {
		return err
	}
	return s.openPayload(payload, dst, tc)
}

// openOptions checks dst and the options of Decrypt and Verify.
func (s *Sealer) openOptions(dst any, opts []TokenOption) (tokenConfig, error) {
	if dst != nil {
		if v := reflect.ValueOf(dst); v.Kind() != reflect.Pointer || v.IsNil() {
			return tokenConfig{}, optionError("destination %T is not a non-nil pointer", dst)
		}
	}
	return tokenOptions(opts, false)
}

// buffer returns a scratch buffer from the pool, with room for the XCP
// header at least.
func (s *Sealer) buffer() *[]byte {
	if bp, ok := s.bufs.Get().(*[]byte); ok {
		return bp
	}
	b := make([]byte, 0, 512)
	return &b
}

// release returns the buffer, possibly regrown as buf, to the pool.
func (s *Sealer) release(bp *[]byte, buf []byte) {
	if cap(buf) > maxPooledBuffer {
		return
	}
	*bp = buf[:0]
	s.bufs.Put(bp)
}
