// Package bench compares sealkit's seal package with peer Go libraries that
// seal small pieces of client-held state: gorilla/securecookie, go-jose (JWE
// dir + A256GCM), fernet-go and tink-go's XChaCha20-Poly1305 AEAD, plus the
// floor, raw XChaCha20-Poly1305 and base64 of the same plaintext.
//
// It is a separate module so that users of sealkit never download the peers.
// Run it with `make bench` from the repository root; results are recorded in
// BENCHMARKS.md.
package bench
