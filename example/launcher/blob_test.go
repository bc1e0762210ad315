package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sealkit/sealkit/seal"
	"github.com/stretchr/testify/require"
)

// sealBlob seals state as the resume handler does (resume/PROTOCOL.md,
// section 3.4: the JSON envelope of blob format 2, as an Erlang binary, for
// the purpose resumeKey), valid for an hour unless opts say otherwise.
// Tests use it to hand the launcher blobs a browser could hold.
func sealBlob(t *testing.T, sealer *seal.Sealer, state any, opts ...seal.TokenOption) string {
	t.Helper()
	return sealFor(t, sealer, resumeKey, state, append([]seal.TokenOption{seal.MaxAge(time.Hour)}, opts...)...)
}

// sealLink seals state as the manage handler seals a manage link (purpose
// manageKey, valid manageMaxAge unless opts say otherwise).
func sealLink(t *testing.T, sealer *seal.Sealer, state manageState, opts ...seal.TokenOption) string {
	t.Helper()
	return sealFor(t, sealer, manageKey, state, append([]seal.TokenOption{seal.MaxAge(manageMaxAge)}, opts...)...)
}

// sealFor seals state in blob format 2 for purpose.
func sealFor(t *testing.T, sealer *seal.Sealer, purpose string, state any, opts ...seal.TokenOption) string {
	t.Helper()
	doc, err := json.Marshal(map[string]any{"v": 2, "bind": "", "state": state})
	require.NoError(t, err)
	blob, err := sealer.Encrypt(purpose, doc, opts...)
	require.NoError(t, err)
	return blob
}
