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
	doc, err := json.Marshal(map[string]any{"v": 2, "bind": "", "state": state})
	require.NoError(t, err)
	blob, err := sealer.Encrypt(resumeKey, doc, append([]seal.TokenOption{seal.MaxAge(time.Hour)}, opts...)...)
	require.NoError(t, err)
	return blob
}
