package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewPassword(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 200 {
		pw, err := newPassword()
		require.NoError(t, err)
		require.Len(t, pw, passwordLength)
		for _, c := range pw {
			require.True(t, strings.ContainsRune(passwordAlphabet, c), "unexpected %q", c)
			counts[c]++
		}
		seen[pw] = true
	}
	assert.Len(t, seen, 200, "passwords do not repeat")
	assert.Len(t, counts, len(passwordAlphabet), "every character of the alphabet shows up")
}

func BenchmarkNewPassword(b *testing.B) {
	for b.Loop() {
		if _, err := newPassword(); err != nil {
			b.Fatal(err)
		}
	}
}
