package main

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// isSentence matches a message as the page writes its own: a capital
// first letter and a full stop at the end.
var isSentence = regexp.MustCompile(`^[A-Z].*[.!?]$`)

func TestSentence(t *testing.T) {
	tests := map[string]string{
		"":                       "",
		"unknown region \"xyz\"": "Unknown region \"xyz\".",
		"already a sentence.":    "Already a sentence.",
		"Is it?":                 "Is it?",
		" élan vital ":           "Élan vital.",
		"try again in a minute!": "Try again in a minute!",
	}
	for in, want := range tests {
		assert.Equal(t, want, sentence(in), "%q", in)
	}
}

// TestPageMessagesAreSentences: the server's refusals used to reach the
// page as lowercase fragments ("unknown region", "too many launches from
// this address, try again in a minute") next to the page's own sentences.
// Every refusal of a launch, and of a management action, is a sentence.
func TestPageMessagesAreSentences(t *testing.T) {
	s := newTestServer(t, 1000, 0)
	s.fly.sim.ReserveName("someone-elses")
	ok := map[string]any{"app": "valid-name", "region": "iad", "size": "small"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{"app": "valid-name", "region": "iad", "size": "small"}
		m[k] = v
		return m
	}
	refusals := []struct {
		name, action string
		data         any
	}{
		{"unknown action", "destroy", ok},
		{"malformed", "launch", "not an object"},
		{"bad name", "launch", with("app", "Bad_Name")},
		{"empty name", "launch", with("app", "")},
		{"unknown region", "launch", with("region", "xyz")},
		{"unknown size", "launch", with("size", "huge")},
		{"name taken", "launch", with("app", "someone-elses")},
	}
	c, _ := s.connect(t, "")
	c.read()
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			r := c.action(tt.action, tt.data)
			require.False(t, r.OK)
			assert.Regexp(t, isSentence, r.Error)
		})
	}
	c.t = t
	for i := range launchBurst + 1 { // the last one is rate limited
		c, _ := s.connect(t, "")
		c.read()
		r := c.action("launch", map[string]any{"app": "sentence-" + string(rune('a'+i)), "region": "iad", "size": "small"})
		if !r.OK {
			assert.Equal(t, launchBurst, i)
			assert.Regexp(t, isSentence, r.Error)
		}
	}
}
