// Package seal makes and opens Phoenix.Token-compatible tokens: sealed
// ("XCP.", encrypted and authenticated) and signed ("SFMyNTY.", readable but
// tamper-proof), with an embedded time and max age. Go and Elixir services
// that share a secret_key_base read each other's tokens.
//
//	s, err := seal.New(secretKeyBase)                       // at least 32 bytes
//	tok, err := s.Encrypt("user auth", data, seal.MaxAge(time.Hour))
//	err = s.Decrypt("user auth", tok, &dst)                 // errors.Is(err, seal.ErrExpired)
//
// # Format
//
// A token's payload is :erlang.term_to_binary({data, signed_at_ms,
// max_age_seconds}) (max age may be the atom infinity), written with package
// etf, so an Elixir app receives data as the matching term: Go maps and
// structs become maps with binary or atom keys, strings become binaries, a
// time.Time becomes a DateTime, and so on. The key is PBKDF2(key base, salt, 1000 iterations, 32 bytes,
// HMAC-SHA256) by default, as Plug.Crypto.KeyGenerator; the salt (Phoenix's
// "salt" or "secret" argument) names the token's purpose.
//
//   - [Sealer.Encrypt] writes "XCP." followed by base64url (no padding) of
//     nonce(24) ‖ tag(16) ‖ ciphertext: XChaCha20-Poly1305 under the derived
//     key with associated data "A128GCM", as Plug.Crypto 2.x MessageEncryptor
//     (what Phoenix.Token.encrypt calls).
//   - [Sealer.Sign] writes base64url("HS256") "." base64url(payload) "."
//     base64url(HMAC-SHA256 of the two), as Plug.Crypto MessageVerifier
//     (what Phoenix.Token.sign calls). Signing is deterministic.
//   - [Sealer.Decrypt] also opens "QTEyOEdDTQ." tokens of plug_crypto 1.x
//     (AES-128-GCM with an AES-GCM-wrapped content key), and
//     [Sealer.Verify] also accepts HS384 and HS512 signatures. The payloads
//     older Phoenix wrote, {data, signed_at_ms} and %{data: data, signed:
//     signed_at_ms}, open with a max age of one day.
//
// Opening follows Plug.Crypto's main branch, in its order: a token with no
// max age (:infinity) is valid; with a max age of zero or less it is
// expired; signed in the future it is invalid; otherwise it is expired
// when signed_at + max_age < now. A [MaxAge] or [NoMaxAge] given when
// opening replaces the embedded max age. plug_crypto v2.1.1 has no future
// check; [ClockSkew] tolerates a peer whose clock runs ahead. Tokens longer than [MaxTokenSize] (64 KiB by default)
// are rejected before any decoding. Errors wrap [ErrInvalid], [ErrExpired]
// or [ErrMissing], never hold keys, plaintext or the token, and an opened
// token only fills dst when it is authentic and within its max age.
//
// # Plug.Crypto versions and compressed tokens
//
// seal is checked against tokens made by plug_crypto 2.1.1 itself and
// against tokens built on real Erlang/OTP exactly as plug_crypto 2.2.x
// builds them (testdata/*.README.md says how each set was made). Since
// 2.2.0, Phoenix.Token.sign/encrypt accept compressed: true, which writes
// the payload as :erlang.term_to_binary(payload, [:compressed]): tag 80
// and a zlib stream, used only when shorter. Decrypt and Verify open such
// tokens whatever their options, inflating the payload within
// [etf.MaxInflatedSize] (1 MiB; the declared size is checked before
// inflating, and a larger term is refused with ErrInvalid even though
// Erlang would open it); bytes after the zlib stream are refused, where
// Erlang ignores them. The [Compressed] option makes Encrypt and Sign
// write compressed payloads as Erlang does; Go's zlib does not produce
// Erlang's exact bytes, so such a token differs from the one Elixir would
// make, but plug_crypto 2.1.1 and 2.2 (binary_to_term) open it to the same
// term. local: true (OTP 26+, a LOCAL_EXT term only the VM that made it
// can decode) cannot be supported: such tokens are refused with ErrInvalid
// and an error saying "local". Refused tags are named in the error; its
// text never holds the plaintext.
//
// Every (key base, salt) pair costs one PBKDF2 run, cached in a bounded
// cache ([KeyCacheSize]) together with the cipher built from the key, so
// tokens themselves cost only the cipher and the encoding.
//
// # What sealing hides, and what it does not
//
// Encrypt hides the data and prevents any change to it; Sign prevents change
// but anyone holding the token can read the data. Neither hides the
// approximate size of the data (tokens grow with it; pad it if size matters),
// and neither stops replay: a token is a bearer credential that opens as
// often as it is presented until its max age passes, so keep max ages short,
// send tokens only over TLS, and keep server-side state (a nonce, a version)
// when a token must work only once or must be revocable. The salt binds a
// token to its purpose: always use a distinct salt per kind of token, so a
// token issued for one thing cannot be replayed as another. [NoMaxAge]
// tokens never expire; avoid them for anything a user can lose.
//
// The key base is the root secret: anyone who has it can read and forge
// every token. Use at least 32 random bytes (Phoenix generates 64), keep it
// out of source control and logs.
//
// # Rotation
//
// To replace a key base, construct the Sealer with the new one and list the
// old ones with [PreviousKeyBases]: new tokens are sealed and signed with the
// new key base only; opening tries the new one, then each old one in order.
// Once the longest max age has passed since the switch, drop the old key
// bases. Phoenix apps sharing the tokens must switch their secret_key_base at
// the same time, since Phoenix opens with one key base only.
package seal
