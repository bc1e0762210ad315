package seal

import (
	"crypto"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"
)

// A Sealer seals, signs and opens tokens under one secret key base (and,
// for rotation, some previous ones). It is safe for concurrent use; make one
// per key base and share it.
type Sealer struct {
	bases [][]byte // bases[0] is the current key base, then the previous ones
	cfg   config
	keys  *keyCache
	aad   []byte    // "A128GCM", the associated data of every encrypted token
	bufs  sync.Pool // of *[]byte, scratch space for sealing and opening

	randMu sync.Mutex // serializes reads of a WithRand reader
}

// derivedKey is the PBKDF2 output for one (key base, salt) pair, with what
// is built from it once and reused for every token.
type derivedKey struct {
	key []byte
	xcp cipher.AEAD // XChaCha20-Poly1305, nil unless len(key) == 32
}

// New returns a Sealer for keyBase, Phoenix's secret_key_base, which must be
// at least 32 bytes (Phoenix generates 64). keyBase is the bytes of the
// secret string as they are, []byte(os.Getenv("SECRET_KEY_BASE")), never
// base64- or hex-decoded: Phoenix derives its keys from the string itself,
// so only the same bytes open a Phoenix app's tokens. It checks every
// option and returns an error wrapping [ErrInvalidOptions] for a bad one.
func New(keyBase []byte, opts ...Option) (*Sealer, error) {
	if len(keyBase) < minKeyBase {
		return nil, optionError("key base is shorter than %d bytes", minKeyBase)
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			return nil, optionError("nil Option")
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	s := &Sealer{cfg: cfg, aad: []byte(encryptAAD)}
	s.bases = append(s.bases, append([]byte(nil), keyBase...))
	s.bases = append(s.bases, cfg.previous...)
	s.cfg.previous = nil
	s.keys = newKeyCache(cfg.cacheSize, s.derive)
	return s, nil
}

// derive runs PBKDF2 for the key base at index base and the salt, as
// Plug.Crypto.KeyGenerator does.
func (s *Sealer) derive(base int, salt string) (*derivedKey, error) {
	var h func() hash.Hash
	switch s.cfg.digest {
	case crypto.SHA384:
		h = sha512.New384
	case crypto.SHA512:
		h = sha512.New
	default:
		h = sha256.New
	}
	key, err := pbkdf2.Key(h, string(s.bases[base]), []byte(salt), s.cfg.iterations, s.cfg.length)
	if err != nil {
		return nil, fmt.Errorf("seal: deriving key: %w", err)
	}
	dk := &derivedKey{key: key}
	if len(key) == chacha20poly1305.KeySize {
		if dk.xcp, err = chacha20poly1305.NewX(key); err != nil {
			return nil, fmt.Errorf("seal: deriving key: %w", err)
		}
	}
	return dk, nil
}
