package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
)

// errAppName reports an app name that Fly.io would refuse.
var errAppName = errors.New("invalid app name")

// appNamePattern is Fly.io's rule for app names, which become DNS labels
// (<name>.fly.dev): lowercase letters, digits and dashes, starting with a
// letter, not ending with a dash, 2 to 63 characters.
var appNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,61}[a-z0-9]$`)

// validateAppName returns an error wrapping errAppName, saying what is wrong,
// when name is not a valid Fly.io app name.
func validateAppName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: it is empty", errAppName)
	case len(name) > 63:
		return fmt.Errorf("%w: it has %d characters, at most 63 are allowed", errAppName, len(name))
	case len(name) < 2:
		return fmt.Errorf("%w: it needs at least 2 characters", errAppName)
	case name[0] < 'a' || name[0] > 'z':
		return fmt.Errorf("%w: it must start with a lowercase letter", errAppName)
	case name[len(name)-1] == '-':
		return fmt.Errorf("%w: it must not end with a dash", errAppName)
	case !appNamePattern.MatchString(name):
		return fmt.Errorf("%w: use only lowercase letters, digits and dashes", errAppName)
	}
	return nil
}

// suggestAppName returns a fresh name like "livebook-k3x9q2".
func suggestAppName() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "livebook-" + string(b[:])
}
