package hooks_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/hooks"
)

// TestImportMap checks ImportMap's output: one script element of type
// importmap whose text is the map, and ImportMapHash is the CSP hash of
// exactly that text. TestImportMapInChromium runs it.
func TestImportMap(t *testing.T) {
	h := hooks.New()
	tests := []struct{ name, prefix string }{
		{"path", "/hooks"},
		{"absolute", "https://cdn.example/assets/"},
		{"characters to escape", `/a"b</script><x>&c`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tag, err := h.ImportMap(tt.prefix)
			require.NoError(t, err)
			src, err := h.URL(tt.prefix, hooks.ScriptFile)
			require.NoError(t, err)
			integrity, err := h.Integrity(hooks.ScriptFile)
			require.NoError(t, err)

			// Script data ends only at "</script": text without "<" is
			// all script, whatever the prefix holds.
			text, ok := strings.CutPrefix(string(tag), `<script type="importmap">`)
			require.True(t, ok, "%s", tag)
			text, ok = strings.CutSuffix(text, `</script>`)
			require.True(t, ok, "%s", tag)
			assert.NotContains(t, text, "<")

			var m struct{ Imports, Integrity map[string]string }
			require.NoError(t, json.Unmarshal([]byte(text), &m), text)
			assert.Equal(t, map[string]string{hooks.Specifier: src}, m.Imports)
			assert.Equal(t, map[string]string{src: integrity}, m.Integrity)

			sum := sha256.Sum256([]byte(text))
			hash, err := h.ImportMapHash(tt.prefix)
			require.NoError(t, err)
			assert.Equal(t, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'", hash)
		})
	}
}

func TestImportMapRejects(t *testing.T) {
	h := hooks.New()
	for _, prefix := range []string{"javascript:alert(1)", "/hooks?x=1", "%zz"} {
		t.Run(prefix, func(t *testing.T) {
			tag, err := h.ImportMap(prefix)
			require.ErrorIs(t, err, hooks.ErrBadPrefix)
			assert.Empty(t, tag)
			hash, err := h.ImportMapHash(prefix)
			require.ErrorIs(t, err, hooks.ErrBadPrefix)
			assert.Empty(t, hash)
		})
	}
}

// TestImportMapFromTemplate checks the form the README's job app uses: a
// page template executed with the Handler calls {{.ImportMap "/hooks"}}
// itself, gets the same map unescaped, and a bad prefix fails Execute.
func TestImportMapFromTemplate(t *testing.T) {
	h := hooks.New()
	want, err := h.ImportMap("/hooks")
	require.NoError(t, err)
	var buf strings.Builder
	page := template.Must(template.New("page").Parse(`<!doctype html><title>Job</title>{{.ImportMap "/hooks"}}`))
	require.NoError(t, page.Execute(&buf, h))
	assert.Equal(t, `<!doctype html><title>Job</title>`+string(want), buf.String())

	bad := template.Must(template.New("page").Parse(`{{.ImportMap "javascript:alert(1)"}}`))
	require.ErrorIs(t, bad.Execute(io.Discard, h), hooks.ErrBadPrefix)
}
