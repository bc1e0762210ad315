package hooks_test

import (
	"crypto/sha512"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/hooks"
)

const assetJS = "export const answer = 42;\n"

func newAppAsset(t *testing.T) *hooks.Asset {
	t.Helper()
	a, err := hooks.NewAsset([]byte(assetJS), "text/javascript; charset=utf-8")
	require.NoError(t, err)
	return a
}

func TestNewAsset(t *testing.T) {
	tests := []struct {
		name, contentType string
		wantErr           bool
	}{
		{"script", "text/javascript; charset=utf-8", false},
		{"icon", "image/svg+xml", false},
		{"empty", "", true},
		{"no subtype", "text", true},
		{"bad parameter", "text/css; charset", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := hooks.NewAsset([]byte("x"), tt.contentType)
			if tt.wantErr {
				require.Error(t, err)
				assert.Nil(t, a)
				return
			}
			require.NoError(t, err)
			res := serve(t, a, http.MethodGet, "/x", nil)
			assert.Equal(t, tt.contentType, res.Header.Get("Content-Type"))
		})
	}
}

func TestAssetServes(t *testing.T) {
	a := newAppAsset(t)
	etag := serve(t, a, http.MethodGet, "/static/app.js", nil).Header.Get("ETag")
	require.Regexp(t, `^"[0-9a-f]{32}"$`, etag, "a strong, quoted ETag")
	tests := []struct {
		name, method, target, ifNoneMatch string
		want                              int
		wantBody                          string
	}{
		{"get", http.MethodGet, "/static/app.js", "", http.StatusOK, assetJS},
		{"versioned URL", http.MethodGet, a.URL("/static/app.js"), "", http.StatusOK, assetJS},
		{"another version's URL", http.MethodGet, "/static/app.js?v=0123456789ab", "", http.StatusOK, assetJS},
		{"head", http.MethodHead, "/static/app.js", "", http.StatusOK, ""},
		{"unchanged", http.MethodGet, "/static/app.js", etag, http.StatusNotModified, ""},
		{"changed", http.MethodGet, "/static/app.js", `"0123"`, http.StatusOK, assetJS},
		{"post", http.MethodPost, "/static/app.js", "", http.StatusMethodNotAllowed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h http.Header
			if tt.ifNoneMatch != "" {
				h = http.Header{"If-None-Match": {tt.ifNoneMatch}}
			}
			res := serve(t, a, tt.method, tt.target, h)
			require.Equal(t, tt.want, res.StatusCode)
			if tt.want == http.StatusMethodNotAllowed {
				assert.Equal(t, "GET, HEAD", res.Header.Get("Allow"))
				assert.Empty(t, res.Header.Get("ETag"))
				return
			}
			assert.Equal(t, tt.wantBody, body(t, res))
			assert.Equal(t, etag, res.Header.Get("ETag"))
			assert.Equal(t, "no-cache", res.Header.Get("Cache-Control"), "revalidated on every use")
			assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
			assert.Empty(t, res.Header.Get("Access-Control-Allow-Origin"), "the application's own files stay same-origin")
		})
	}
}

func TestAssetURLAndIntegrity(t *testing.T) {
	a := newAppAsset(t)
	sum := sha512.Sum384([]byte(assetJS))
	assert.Equal(t, "sha384-"+base64.StdEncoding.EncodeToString(sum[:]), a.Integrity())

	src := a.URL("/static/app.js")
	assert.Regexp(t, `^/static/app\.js\?v=[0-9a-f]{12}$`, src)
	assert.Equal(t, src, newAppAsset(t).URL("/static/app.js"), "the same bytes, the same URL")
	other, err := hooks.NewAsset([]byte(assetJS+"// changed\n"), "text/javascript")
	require.NoError(t, err)
	assert.NotEqual(t, src, other.URL("/static/app.js"), "other bytes, another URL")
	assert.NotEqual(t, a.Integrity(), other.Integrity())
}

func TestNewAssetCopiesBody(t *testing.T) {
	b := []byte(assetJS)
	a, err := hooks.NewAsset(b, "text/javascript")
	require.NoError(t, err)
	copy(b, strings.Repeat("x", len(b)))
	assert.Equal(t, assetJS, body(t, serve(t, a, http.MethodGet, "/", nil)))
}
