package seal

import "strings"

// openEncrypted checks the token's size and format and returns its authentic
// payload: the ETF bytes of {data, signed_at, max_age}, possibly in *scratch.
func (s *Sealer) openEncrypted(salt, token string, scratch *[]byte) ([]byte, error) {
	if token == "" {
		return nil, ErrMissing
	}
	if len(token) > s.cfg.maxTokenSize {
		return nil, invalid("token too long")
	}
	switch {
	case strings.HasPrefix(token, xcpPrefix):
		return s.openXCP(salt, token[len(xcpPrefix):], scratch)
	case strings.HasPrefix(token, legacyPrefix):
		return s.openLegacy(salt, token[len(legacyPrefix):])
	}
	return nil, invalid("not an encrypted token")
}
