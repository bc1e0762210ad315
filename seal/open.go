package seal

import "strings"

// openToken checks the token's size and format and returns its authentic
// payload: the ETF bytes of {data, signed_at, max_age}.
func (s *Sealer) openEncrypted(salt, token string) ([]byte, error) {
	if token == "" {
		return nil, ErrMissing
	}
	if len(token) > s.cfg.maxTokenSize {
		return nil, invalid("token too long")
	}
	switch {
	case strings.HasPrefix(token, xcpPrefix):
		return s.openXCP(salt, token[len(xcpPrefix):])
	case strings.HasPrefix(token, legacyPrefix):
		return s.openLegacy(salt, token[len(legacyPrefix):])
	}
	return nil, invalid("not an encrypted token")
}
