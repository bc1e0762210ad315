package bench

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/fernet/fernet-go"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/gorilla/securecookie"
	"github.com/sealkit/sealkit/seal"
	"github.com/sealkit/sealkit/seal/etf"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"
	"golang.org/x/crypto/chacha20poly1305"
)

// Sealer is one library's way to turn a State into a string and back.
type Sealer interface {
	Seal(s State) (string, error)
	Open(tok string, dst *State) error
}

// Peers returns every contender but the floor, sealkit first.
func Peers() ([]Named, error) {
	key := make([]byte, 64)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	sk, err := seal.New(key)
	if err != nil {
		return nil, err
	}
	jw, err := newJose(key[:32])
	if err != nil {
		return nil, err
	}
	tk, err := newTink()
	if err != nil {
		return nil, err
	}
	fk := new(fernet.Key)
	copy(fk[:], key[:32])
	sc := securecookie.New(key[:32], key[32:]).SetSerializer(securecookie.JSONEncoder{}).MaxLength(0)
	return []Named{
		{"sealkit-seal", sealkitSealer{sk}},
		{"gorilla-securecookie", cookieSealer{sc}},
		{"go-jose-dir-a256gcm", jw},
		{"fernet-go", fernetSealer{fk}},
		{"tink-xchacha20poly1305", tk},
	}, nil
}

// Named pairs a Sealer with the name it is reported under.
type Named struct {
	Name string
	Sealer
}

type sealkitSealer struct{ s *seal.Sealer }

func (p sealkitSealer) Seal(s State) (string, error) { return p.s.Encrypt("bench", s) }
func (p sealkitSealer) Open(tok string, dst *State) error {
	return p.s.Decrypt("bench", tok, dst)
}

type cookieSealer struct{ sc *securecookie.SecureCookie }

func (p cookieSealer) Seal(s State) (string, error)      { return p.sc.Encode("bench", s) }
func (p cookieSealer) Open(tok string, dst *State) error { return p.sc.Decode("bench", tok, dst) }

type joseSealer struct {
	key []byte
	enc jose.Encrypter
}

func newJose(key []byte) (*joseSealer, error) {
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.DIRECT, Key: key}, nil)
	if err != nil {
		return nil, err
	}
	return &joseSealer{key: key, enc: enc}, nil
}

func (p *joseSealer) Seal(s State) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	obj, err := p.enc.Encrypt(b)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

func (p *joseSealer) Open(tok string, dst *State) error {
	obj, err := jose.ParseEncryptedCompact(tok, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return err
	}
	b, err := obj.Decrypt(p.key)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}

type fernetSealer struct{ k *fernet.Key }

func (p fernetSealer) Seal(s State) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	tok, err := fernet.EncryptAndSign(b, p.k)
	return string(tok), err
}

func (p fernetSealer) Open(tok string, dst *State) error {
	b := fernet.VerifyAndDecrypt([]byte(tok), 24*time.Hour, []*fernet.Key{p.k})
	if b == nil {
		return fmt.Errorf("fernet: invalid token")
	}
	return json.Unmarshal(b, dst)
}

type tinkSealer struct{ a tink.AEAD }

func newTink() (*tinkSealer, error) {
	h, err := keyset.NewHandle(aead.XChaCha20Poly1305KeyTemplate())
	if err != nil {
		return nil, err
	}
	a, err := aead.New(h)
	if err != nil {
		return nil, err
	}
	return &tinkSealer{a}, nil
}

var tinkAD = []byte("bench")

func (p *tinkSealer) Seal(s State) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	ct, err := p.a.Encrypt(b, tinkAD)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(ct), nil
}

func (p *tinkSealer) Open(tok string, dst *State) error {
	ct, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return err
	}
	b, err := p.a.Decrypt(ct, tinkAD)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}

// Floor is the least any sealer can do: XChaCha20-Poly1305 over plaintext
// bytes encoded beforehand, with a fresh random nonce, and base64url of the
// result. Benchmarks give it exactly the payload seal encrypts for the same
// State (see Payload), so the gap between the floor and seal is seal's own
// cost: encoding, framing and checks.
type Floor struct {
	aead cipher.AEAD
}

// NewFloor returns a Floor keyed with a 32-byte key.
func NewFloor(key []byte) (*Floor, error) {
	a, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	return &Floor{aead: a}, nil
}

// Seal encrypts plain under a random nonce and returns base64url(nonce ‖ ct).
func (f *Floor) Seal(plain []byte) (string, error) {
	buf := make([]byte, chacha20poly1305.NonceSizeX, chacha20poly1305.NonceSizeX+len(plain)+f.aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	buf = f.aead.Seal(buf, buf, plain, nil)
	return base64.RawURLEncoding.EncodeToString(buf), nil
}

// Open reverses Seal.
func (f *Floor) Open(tok string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, err
	}
	if len(raw) < chacha20poly1305.NonceSizeX {
		return nil, fmt.Errorf("floor: short token")
	}
	nonce, ct := raw[:chacha20poly1305.NonceSizeX], raw[chacha20poly1305.NonceSizeX:]
	return f.aead.Open(ct[:0], nonce, ct, nil)
}

// Payload is the plaintext seal encrypts for s with the default max age:
// term_to_binary({s, signed_at_ms, 86400}).
func Payload(s State) ([]byte, error) {
	return etf.Marshal(etf.Tuple{s, time.Now().UnixMilli(), int64(86400)})
}
