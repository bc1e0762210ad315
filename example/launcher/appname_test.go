package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateAppName(t *testing.T) {
	tests := []struct {
		name    string
		wantErr string
	}{
		{"livebook-abc123", ""},
		{"ab", ""},
		{"a1", ""},
		{strings.Repeat("a", 63), ""},
		{"", "empty"},
		{"a", "at least 2"},
		{strings.Repeat("a", 64), "at most 63"},
		{"1abc", "start with a lowercase letter"},
		{"-abc", "start with a lowercase letter"},
		{"Abc", "start with a lowercase letter"},
		{"abc-", "end with a dash"},
		{"ab_c", "lowercase letters, digits and dashes"},
		{"ab.c", "lowercase letters, digits and dashes"},
		{"abC", "lowercase letters, digits and dashes"},
		{"ab c", "lowercase letters, digits and dashes"},
		{"abé", "lowercase letters, digits and dashes"},
		{"ab\x00c", "lowercase letters, digits and dashes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateAppName(tt.name)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, errAppName)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestSuggestAppName(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		n := suggestAppName()
		require.NoError(t, validateAppName(n))
		seen[n] = true
	}
	assert.Greater(t, len(seen), 45, "suggestions are random")
}

func FuzzValidateAppName(f *testing.F) {
	for _, s := range []string{"", "a", "livebook-1", "abc-", "Abc", "ab_c", strings.Repeat("z", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := validateAppName(name)
		if err == nil {
			// Whatever we accept, Fly's DNS-label rule accepts.
			require.True(t, appNamePattern.MatchString(name))
			require.LessOrEqual(t, len(name), 63)
		} else {
			require.ErrorIs(t, err, errAppName)
		}
	})
}
