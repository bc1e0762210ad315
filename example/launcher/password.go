package main

import (
	"crypto/rand"
	"fmt"
)

// passwordAlphabet avoids look-alike characters (0/O, 1/l/I) so the password
// can be read off the screen and typed.
const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// passwordLength gives about 140 bits of entropy; Livebook wants 12 or more.
const passwordLength = 24

// newPassword returns a fresh Livebook password from crypto/rand.
func newPassword() (string, error) {
	out := make([]byte, 0, passwordLength)
	var buf [64]byte
	// Rejection sampling keeps every character equally likely.
	limit := byte(256 - 256%len(passwordAlphabet))
	for len(out) < passwordLength {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("generate password: %w", err)
		}
		for _, b := range buf {
			if b < limit && len(out) < passwordLength {
				out = append(out, passwordAlphabet[int(b)%len(passwordAlphabet)])
			}
		}
	}
	return string(out), nil
}
