package resume_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sealkit/sealkit/resume"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type nopApp struct{}

func (nopApp) Open(context.Context, *resume.Conn[int], resume.Result[int]) error { return nil }
func (nopApp) Action(context.Context, *resume.Conn[int], string, json.RawMessage) error {
	return nil
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name   string
		opts   resume.Options
		noSeal bool
		noApp  bool
		ok     bool
	}{
		{name: "minimal", opts: resume.Options{Key: "launch"}, ok: true},
		{name: "everything", ok: true, opts: resume.Options{
			Key: "launch", MaxAge: time.Minute, OriginPatterns: []string{"*.example.com"},
			MaxFrameSize: 4096, PingInterval: time.Second, WriteTimeout: time.Second,
			RestoreTimeout: time.Second, Logger: slog.New(slog.DiscardHandler),
			Instance: "148ed193b95089", Replay: func(http.ResponseWriter, *http.Request, string) bool { return false },
			ClientAddr: resume.ClientAddrFrom("Fly-Client-IP"), MaxConnsPerClient: 32,
		}},
		{name: "instance alone", opts: resume.Options{Key: "k", Instance: "a-b_C9"}, ok: true},
		{name: "instance with a dot", opts: resume.Options{Key: "k", Instance: "a.b"}},
		{name: "instance with a space", opts: resume.Options{Key: "k", Instance: "a b"}},
		{name: "instance not ASCII", opts: resume.Options{Key: "k", Instance: "maschine-ü"}},
		{name: "instance too long", opts: resume.Options{Key: "k", Instance: strings.Repeat("a", 65)}},
		{name: "replay without instance", opts: resume.Options{Key: "k",
			Replay: func(http.ResponseWriter, *http.Request, string) bool { return false }}},
		{name: "no key", opts: resume.Options{}},
		{name: "control char in key", opts: resume.Options{Key: "la\nunch"}},
		{name: "key too long", opts: resume.Options{Key: string(make([]byte, 200))}},
		{name: "invalid utf8 key", opts: resume.Options{Key: "\xff"}},
		{name: "negative max age", opts: resume.Options{Key: "k", MaxAge: -time.Second}},
		{name: "negative ping", opts: resume.Options{Key: "k", PingInterval: -1}},
		{name: "negative write timeout", opts: resume.Options{Key: "k", WriteTimeout: -1}},
		{name: "negative restore timeout", opts: resume.Options{Key: "k", RestoreTimeout: -1}},
		{name: "tiny frames", opts: resume.Options{Key: "k", MaxFrameSize: 100}},
		{name: "negative frames", opts: resume.Options{Key: "k", MaxFrameSize: -1}},
		{name: "negative conns per client", opts: resume.Options{Key: "k", MaxConnsPerClient: -1}},
		{name: "bad origin pattern", opts: resume.Options{Key: "k", OriginPatterns: []string{"[x"}}},
		{name: "nil sealer", opts: resume.Options{Key: "k"}, noSeal: true},
		{name: "nil app", opts: resume.Options{Key: "k"}, noApp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealer := newSealer(t)
			if tt.noSeal {
				sealer = nil
			}
			var app resume.App[int] = nopApp{}
			if tt.noApp {
				app = nil
			}
			h, err := resume.New(sealer, app, tt.opts)
			if tt.ok {
				require.NoError(t, err)
				require.NotNil(t, h)
				return
			}
			assert.ErrorIs(t, err, resume.ErrInvalidOptions)
			assert.Nil(t, h)
		})
	}
}
