package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadKeyBasesFromEnv(t *testing.T) {
	tests := []struct {
		name     string
		previous string
		want     [][]byte
	}{
		{"none", "", nil},
		{"one", "old-one", [][]byte{[]byte("old-one")}},
		{"several with blanks and spaces", " a , ,b,, c ", [][]byte{[]byte("a"), []byte("b"), []byte("c")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			kb, generated, err := loadKeyBases(env(map[string]string{
				"SECRET_KEY_BASE": "current-key-base", "SECRET_KEY_BASE_PREVIOUS": tt.previous,
			}), dir)
			require.NoError(t, err)
			assert.False(t, generated)
			assert.Equal(t, []byte("current-key-base"), kb.current)
			assert.Equal(t, tt.want, kb.previous)
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Empty(t, entries, "an env key base writes nothing to the data dir")
		})
	}
}

func TestLoadKeyBasesGenerated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	kb, generated, err := loadKeyBases(env(nil), dir)
	require.NoError(t, err)
	assert.True(t, generated)
	raw, err := base64.RawURLEncoding.DecodeString(string(kb.current))
	require.NoError(t, err)
	assert.Len(t, raw, 64)

	fi, err := os.Stat(filepath.Join(dir, keyBaseFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	di, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), di.Mode().Perm())

	again, generated, err := loadKeyBases(env(nil), dir)
	require.NoError(t, err)
	assert.False(t, generated, "the second start reads the kept key base")
	assert.Equal(t, kb.current, again.current)

	other, _, err := loadKeyBases(env(nil), t.TempDir())
	require.NoError(t, err)
	assert.NotEqual(t, kb.current, other.current, "each data dir gets its own random key base")
}

func TestLoadKeyBasesConcurrentStart(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	got := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			kb, _, err := loadKeyBases(env(nil), dir)
			assert.NoError(t, err)
			got[i] = kb.current
		})
	}
	wg.Wait()
	for i := range n {
		assert.Equal(t, got[0], got[i], "instances starting together agree on one key base")
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary files are left behind")
}

func TestLoadKeyBasesBadFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, keyBaseFile), []byte(" \n"), 0o600))
	_, _, err := loadKeyBases(env(nil), dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "empty")

	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, _, err = loadKeyBases(env(nil), file)
	require.Error(t, err, "a data dir that is a file fails clearly")
}
