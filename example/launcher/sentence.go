package main

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// sentenceError shows an error on the page as a sentence. Go's error
// strings are lowercase fragments, the page's own texts are sentences:
// the errors an action returns reach the page through this.
type sentenceError struct{ err error }

func (e sentenceError) Error() string { return sentence(e.err.Error()) }

func (e sentenceError) Unwrap() error { return e.err }

// asSentence wraps a non-nil err in sentenceError.
func asSentence(err error) error {
	if err == nil {
		return nil
	}
	return sentenceError{err}
}

// sentence capitalizes the first letter of s and ends it with a period
// unless it ends a sentence already.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}
