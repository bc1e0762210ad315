package seal_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/sealkit/sealkit/seal"
)

// The key base is Phoenix's secret_key_base: at least 32 random bytes, kept
// secret, shared by every server that reads the tokens.
var keyBase = []byte("Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG9mcmVkcGx1Z2g")

type launch struct {
	App      string `etf:"app"`
	Password string `etf:"password"`
	Step     int    `etf:"step"`
}

func Example() {
	s, err := seal.New(keyBase)
	if err != nil {
		panic(err)
	}
	tok, err := s.Encrypt("launcher state", launch{App: "livebook-1", Password: "hunter2", Step: 3}, seal.MaxAge(time.Hour))
	if err != nil {
		panic(err)
	}
	// tok is "XCP.…": Phoenix.Token.decrypt(endpoint, "launcher state", tok) reads it too.
	var got launch
	if err := s.Decrypt("launcher state", tok, &got); err != nil {
		panic(err)
	}
	fmt.Println(got.App, got.Password, got.Step)
	fmt.Println(errors.Is(s.Decrypt("another purpose", tok, &got), seal.ErrInvalid))
	// Output:
	// livebook-1 hunter2 3
	// true
}

// sealUserID seals a user ID for an hour and opens the token again, as
// Phoenix.Token.encrypt and Phoenix.Token.decrypt do.
func sealUserID(keyBase []byte) (map[string]any, error) {
	s, err := seal.New(keyBase) // Phoenix's secret_key_base: at least 32 bytes
	if err != nil {
		return nil, err
	}
	tok, err := s.Encrypt("user auth", map[string]any{"id": 42}, seal.MaxAge(time.Hour))
	if err != nil {
		return nil, err
	}
	// tok is "XCP.…": Phoenix.Token.decrypt(endpoint, "user auth", tok) reads it too.
	var got map[string]any
	err = s.Decrypt("user auth", tok, &got) // errors.Is(err, seal.ErrExpired) after an hour
	return got, err
}

func Example_userID() {
	got, err := sealUserID(keyBase)
	fmt.Println(got["id"], err)
	// Output: 42 <nil>
}

func ExampleMaxAge() {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	s, err := seal.New(keyBase, seal.WithClock(func() time.Time { return now }))
	if err != nil {
		panic(err)
	}
	tok, err := s.Encrypt("invite", "team-42", seal.MaxAge(10*time.Minute))
	if err != nil {
		panic(err)
	}
	var team string
	now = now.Add(10 * time.Minute)
	fmt.Println(s.Decrypt("invite", tok, &team), team)
	now = now.Add(time.Second)
	fmt.Println(errors.Is(s.Decrypt("invite", tok, &team), seal.ErrExpired))
	// A shorter max age given when opening wins over the embedded one.
	fmt.Println(errors.Is(s.Decrypt("invite", tok, &team, seal.MaxAge(time.Minute)), seal.ErrExpired))
	// Output:
	// <nil> team-42
	// true
	// true
}

func ExampleClockSkew() {
	// An Elixir host whose clock runs 2 s ahead of ours mints a token.
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	elixir, err := seal.New(keyBase, seal.WithClock(func() time.Time { return now.Add(2 * time.Second) }))
	if err != nil {
		panic(err)
	}
	tok, err := elixir.Encrypt("invite", "team-42")
	if err != nil {
		panic(err)
	}
	var team string
	strict, err := seal.New(keyBase, seal.WithClock(func() time.Time { return now }))
	if err != nil {
		panic(err)
	}
	fmt.Println(errors.Is(strict.Decrypt("invite", tok, &team), seal.ErrInvalid))
	tolerant, err := seal.New(keyBase, seal.WithClock(func() time.Time { return now }), seal.ClockSkew(5*time.Second))
	if err != nil {
		panic(err)
	}
	fmt.Println(tolerant.Decrypt("invite", tok, &team), team)
	// Output:
	// true
	// <nil> team-42
}

func ExamplePreviousKeyBases() {
	oldBase := []byte("the key base we used until last week, now being retired")
	before, err := seal.New(oldBase)
	if err != nil {
		panic(err)
	}
	oldTok, err := before.Encrypt("session", 42)
	if err != nil {
		panic(err)
	}

	// Rotate: seal with the new key base, still open the old tokens.
	s, err := seal.New(keyBase, seal.PreviousKeyBases(oldBase))
	if err != nil {
		panic(err)
	}
	var id int
	fmt.Println(s.Decrypt("session", oldTok, &id), id)
	newTok, err := s.Encrypt("session", 43)
	if err != nil {
		panic(err)
	}
	fmt.Println(errors.Is(before.Decrypt("session", newTok, &id), seal.ErrInvalid))
	// Output:
	// <nil> 42
	// true
}

func ExampleSealer_Sign() {
	s, err := seal.New(keyBase)
	if err != nil {
		panic(err)
	}
	// Signing is deterministic: same data, time and max age, same token.
	signedAt := time.UnixMilli(1764172800000)
	tok, err := s.Sign("user", 99, seal.SignedAt(signedAt), seal.MaxAge(time.Hour))
	if err != nil {
		panic(err)
	}
	fmt.Println(tok)

	var id int
	err = s.Verify("user", tok, &id, seal.NoMaxAge())
	fmt.Println(err, id)
	// Output:
	// SFMyNTY.g2gDYWNuBgAAoOTAmgFiAAAOEA.X_k_QSlXuyb0VhohjyXys42i1nXyAYG4wf4hOwKHK4M
	// <nil> 99
}

// A large, repetitive state travels compressed, as Phoenix.Token.encrypt
// with compressed: true (plug_crypto 2.2) writes it; opening needs no
// option, and Elixir opens the token to the same term.
func ExampleCompressed() {
	s, err := seal.New(keyBase)
	if err != nil {
		panic(err)
	}
	logLines := make([]string, 200)
	for i := range logLines {
		logLines[i] = "machine started, waiting for health checks"
	}
	state := map[string]any{"app": "livebook-1", "log": logLines}
	plain, err := s.Encrypt("launcher state", state)
	if err != nil {
		panic(err)
	}
	small, err := s.Encrypt("launcher state", state, seal.Compressed())
	if err != nil {
		panic(err)
	}
	var got struct{ Log []string }
	if err := s.Decrypt("launcher state", small, &got); err != nil {
		panic(err)
	}
	fmt.Println(len(got.Log), len(small) < len(plain)/10)
	// Output:
	// 200 true
}
