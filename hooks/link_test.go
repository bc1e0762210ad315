package hooks_test

import (
	"errors"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/hooks"
)

func TestIntegrityUnknownFile(t *testing.T) {
	_, err := hooks.New().Integrity("app.js")
	require.ErrorIs(t, err, hooks.ErrUnknownFile)
	assert.Contains(t, err.Error(), `"app.js"`)
}

func TestURL(t *testing.T) {
	h := hooks.New()
	version := regexp.MustCompile(`\?v=[0-9a-f]{12}$`)
	tests := []struct {
		prefix, want string
	}{
		{"/hooks", "/hooks/sealkit-resume.js"},
		{"/hooks/", "/hooks/sealkit-resume.js"},
		{"", "/sealkit-resume.js"},
		{"/", "/sealkit-resume.js"},
		{"https://cdn.example/assets", "https://cdn.example/assets/sealkit-resume.js"},
		{"//cdn.example/a", "//cdn.example/a/sealkit-resume.js"},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			got, err := h.URL(tt.prefix, hooks.ScriptFile)
			require.NoError(t, err)
			assert.Regexp(t, version, got)
			assert.Equal(t, tt.want, version.ReplaceAllString(got, ""))
		})
	}
	js, err := h.URL("/h", hooks.ScriptFile)
	require.NoError(t, err)
	ts, err := h.URL("/h", hooks.TypesFile)
	require.NoError(t, err)
	assert.NotEqual(t, version.FindString(js), version.FindString(ts), "the version follows the content")
}

func TestURLRejects(t *testing.T) {
	h := hooks.New()
	tests := []struct {
		name, prefix, file string
		want               error
	}{
		{"unknown file", "/hooks", "x.js", hooks.ErrUnknownFile},
		{"javascript scheme", "javascript:alert(1)", hooks.ScriptFile, hooks.ErrBadPrefix},
		{"data scheme", "data:text/javascript,1", hooks.ScriptFile, hooks.ErrBadPrefix},
		{"query", "/hooks?x=1", hooks.ScriptFile, hooks.ErrBadPrefix},
		{"fragment", "/hooks#x", hooks.ScriptFile, hooks.ErrBadPrefix},
		{"empty query", "/hooks?", hooks.ScriptFile, hooks.ErrBadPrefix},
		{"scheme without host", "https:/hooks", hooks.ScriptFile, hooks.ErrBadPrefix},
		{"unparsable", "%zz", hooks.ScriptFile, hooks.ErrBadPrefix},
		{"control character", "/ho\x00oks", hooks.ScriptFile, hooks.ErrBadPrefix},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.URL(tt.prefix, tt.file)
			require.Error(t, err)
			assert.True(t, errors.Is(err, tt.want), "got %v", err)
			assert.Empty(t, got)
			_, err = h.ScriptTag(tt.prefix)
			if tt.file == hooks.ScriptFile {
				assert.ErrorIs(t, err, tt.want)
			}
		})
	}
}

func TestScriptTag(t *testing.T) {
	h := hooks.New()
	tag, err := h.ScriptTag("/hooks")
	require.NoError(t, err)
	src, err := h.URL("/hooks", hooks.ScriptFile)
	require.NoError(t, err)
	integrity, err := h.Integrity(hooks.ScriptFile)
	require.NoError(t, err)
	assert.Equal(t, `<script type="module" src="`+src+`" integrity="`+integrity+`"></script>`, string(tag))

	// Attribute values are escaped: a quote in the prefix cannot end the attribute.
	tag, err = h.ScriptTag(`/a"b<c`)
	require.NoError(t, err)
	assert.Contains(t, string(tag), `src="/a&#34;b&lt;c/sealkit-resume.js?v=`)
}
