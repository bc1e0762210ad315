package main

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sealkit/sealkit/seal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTickets(t *testing.T) {
	sealer, err := seal.New([]byte(testKeyBase))
	require.NoError(t, err)
	tests := []struct {
		name       string
		trust      bool
		remote     string
		forwarded  string
		wantClient string
	}{
		{"remote address", false, "198.51.100.7:5555", "", "198.51.100.7"},
		{"forwarded ignored unless trusted", false, "10.0.0.1:5555", "203.0.113.1", "10.0.0.1"},
		{"trusted proxy: last hop", true, "10.0.0.1:5555", "192.0.2.66, 203.0.113.1", "203.0.113.1"},
		{"trusted proxy: IPv6", true, "10.0.0.1:5555", "2001:db8::1", "2001:db8::1"},
		{"trusted proxy: garbage falls back", true, "10.0.0.1:5555", "not-an-ip", "10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := tickets{sealer: sealer, trustForwarded: tt.trust}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if tt.forwarded != "" {
				r.Header.Set("X-Forwarded-For", tt.forwarded)
			}
			ticket, err := tk.issue(r)
			require.NoError(t, err)
			got, err := tk.client(ticket)
			require.NoError(t, err)
			assert.Equal(t, tt.wantClient, got)
		})
	}
}

func TestTicketsRejected(t *testing.T) {
	sealer, err := seal.New([]byte(testKeyBase))
	require.NoError(t, err)
	tk := tickets{sealer: sealer}
	old, err := sealer.Sign(ticketSalt, "192.0.2.1", seal.SignedAt(time.Now().Add(-ticketMaxAge-time.Minute)), seal.MaxAge(ticketMaxAge))
	require.NoError(t, err)
	otherPurpose, err := sealer.Sign("something else", "192.0.2.1")
	require.NoError(t, err)
	for name, ticket := range map[string]string{"empty": "", "garbage": "SFMyNTY.x.y", "expired": old, "other salt": otherPurpose} {
		t.Run(name, func(t *testing.T) {
			_, err := tk.client(ticket)
			require.ErrorIs(t, err, errTicket)
		})
	}
}
