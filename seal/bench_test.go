package seal

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/sealkit/sealkit/seal/etf"
	"golang.org/x/crypto/chacha20poly1305"
)

// benchState is a ~1 KiB struct, the size of the launcher state the resume
// package keeps in the browser.
type benchState struct {
	App       string   `etf:"app"`
	Org       string   `etf:"org"`
	Region    string   `etf:"region"`
	MachineID string   `etf:"machine_id"`
	Password  string   `etf:"password"`
	Step      int      `etf:"step"`
	StartedAt int64    `etf:"started_at"`
	Done      bool     `etf:"done"`
	Log       []string `etf:"log"`
}

func newBenchState() benchState {
	st := benchState{
		App: "livebook-quiet-river-2817", Org: "personal", Region: "ams",
		MachineID: "148e453a7d0e89", Password: "kx8R2mZ0qV7tYw3nB6cD1fH4jL9pS5aE",
		Step: 4, StartedAt: 1764172800000,
	}
	for i := range 8 {
		st.Log = append(st.Log, strings.Repeat(string(rune('a'+i)), 100))
	}
	return st
}

func benchSealer(b *testing.B) *Sealer {
	s, err := New(testKeyBase)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkEncrypt(b *testing.B) {
	s := benchSealer(b)
	st := newBenchState()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Encrypt("launcher", st); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecrypt(b *testing.B) {
	s := benchSealer(b)
	tok, err := s.Encrypt("launcher", newBenchState())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(tok)))
	b.ReportAllocs()
	for b.Loop() {
		var st benchState
		if err := s.Decrypt("launcher", tok, &st); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoundTrip is Encrypt then Decrypt of the ~1 KiB struct; compare
// it with BenchmarkRawXChaCha20Base64, the bare cipher and encoding cost.
func BenchmarkRoundTrip(b *testing.B) {
	s := benchSealer(b)
	in := newBenchState()
	b.ReportAllocs()
	for b.Loop() {
		tok, err := s.Encrypt("launcher", in)
		if err != nil {
			b.Fatal(err)
		}
		var out benchState
		if err := s.Decrypt("launcher", tok, &out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawXChaCha20Base64 is the floor for BenchmarkRoundTrip: seal and
// open of the same plaintext bytes with XChaCha20-Poly1305, with base64url
// encoding and decoding, and nothing else.
func BenchmarkRawXChaCha20Base64(b *testing.B) {
	plain, err := etf.Marshal(etf.Tuple{newBenchState(), int64(1764172800000), int64(86400)})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("plaintext %d bytes", len(plain))
	aead, err := chacha20poly1305.NewX(make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	nonce := make([]byte, nonceSize)
	aad := []byte(encryptAAD)
	enc := base64.RawURLEncoding
	b.ReportAllocs()
	for b.Loop() {
		rand.Read(nonce)
		sealed := aead.Seal(nil, nonce, plain, aad)
		tok := enc.EncodeToString(sealed)
		raw, err := enc.DecodeString(tok)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := aead.Open(raw[:0], nonce, raw, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	s := benchSealer(b)
	st := newBenchState()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign("launcher", st); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	s := benchSealer(b)
	tok, err := s.Sign("launcher", newBenchState())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var st benchState
		if err := s.Verify("launcher", tok, &st); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecryptRejected is the cost of turning away a forged token.
func BenchmarkDecryptRejected(b *testing.B) {
	s := benchSealer(b)
	tok, err := s.Encrypt("launcher", newBenchState())
	if err != nil {
		b.Fatal(err)
	}
	forged := tok[:20] + "A" + tok[21:]
	if forged == tok {
		forged = tok[:20] + "B" + tok[21:]
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Decrypt("launcher", forged, nil); err == nil {
			b.Fatal("forged token opened")
		}
	}
}
