package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// keyBaseFile is the name, in the data directory, of the generated key base.
const keyBaseFile = "secret_key_base"

// keyBases is the key base that seals, and the earlier ones still accepted
// when opening.
type keyBases struct {
	current  []byte
	previous [][]byte
}

// loadKeyBases takes the key base from SECRET_KEY_BASE and the earlier ones
// from SECRET_KEY_BASE_PREVIOUS (comma-separated, blanks ignored). Without
// SECRET_KEY_BASE it reads the key base kept in dataDir, generating it on
// first use. generated reports whether this call created it.
func loadKeyBases(getenv func(string) string, dataDir string) (kb keyBases, generated bool, err error) {
	for _, p := range strings.Split(getenv("SECRET_KEY_BASE_PREVIOUS"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			kb.previous = append(kb.previous, []byte(p))
		}
	}
	if v := getenv("SECRET_KEY_BASE"); v != "" {
		kb.current = []byte(v)
		return kb, false, nil
	}
	kb.current, generated, err = keyBaseFromDir(dataDir)
	return kb, generated, err
}

// keyBaseFromDir reads dataDir/secret_key_base, or creates it with 64 random
// bytes, base64url-encoded so it can be copied into SECRET_KEY_BASE, readable
// by its owner only.
func keyBaseFromDir(dataDir string) ([]byte, bool, error) {
	path := filepath.Join(dataDir, keyBaseFile)
	b, err := os.ReadFile(path)
	if err == nil {
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			return nil, false, fmt.Errorf("key base file %s is empty", path)
		}
		return b, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("read key base: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("create data dir: %w", err)
	}
	raw := make([]byte, 64)
	if _, err := rand.Read(raw); err != nil {
		return nil, false, fmt.Errorf("generate key base: %w", err)
	}
	kb := []byte(base64.RawURLEncoding.EncodeToString(raw))
	// Write a temporary file and hard-link it into place: the key base
	// appears whole or not at all, and when two instances start together on
	// one data dir the loser reads the winner's instead of overwriting it.
	tmp, err := os.CreateTemp(dataDir, keyBaseFile+".*.tmp") // mode 0600
	if err != nil {
		return nil, false, fmt.Errorf("create key base file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(kb, '\n')); err != nil {
		tmp.Close()
		return nil, false, fmt.Errorf("write key base file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, false, fmt.Errorf("write key base file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return keyBaseFromDir(dataDir)
	} else if err != nil {
		return nil, false, fmt.Errorf("create key base file: %w", err)
	}
	return kb, true, nil
}
