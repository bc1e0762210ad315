package hooks_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/hooks"
)

// maxScriptGzip is the budget of sealkit-resume.js, gzipped as a server or
// CDN sends it: small enough to ship anywhere without a build step, while
// the source stays readable (comments and plain statements).
const maxScriptGzip = 4 << 10

func serve(t *testing.T, h http.Handler, method, target string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

func TestScriptSize(t *testing.T) {
	b, err := os.ReadFile(hooks.ScriptFile)
	require.NoError(t, err)
	n := gzipSize(t, b)
	assert.LessOrEqual(t, n, maxScriptGzip, "%s is %d bytes gzipped (%d raw); the budget is %d gzipped", hooks.ScriptFile, n, len(b), maxScriptGzip)
	t.Logf("%s: %d bytes, %d gzipped", hooks.ScriptFile, len(b), n)
}

// gzipSize is the length of b gzipped at the default level.
func gzipSize(t *testing.T, b []byte) int {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Len()
}

func TestServeFiles(t *testing.T) {
	h := hooks.New()
	tests := []struct {
		path, file, contentType string
	}{
		{"/sealkit-resume.js", hooks.ScriptFile, "text/javascript; charset=utf-8"},
		{"sealkit-resume.js", hooks.ScriptFile, "text/javascript; charset=utf-8"},
		{"/sealkit-resume.js?v=whatever", hooks.ScriptFile, "text/javascript; charset=utf-8"},
		{"/sealkit-resume.d.ts", hooks.TypesFile, "application/typescript; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			want, err := os.ReadFile(tt.file)
			require.NoError(t, err)
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.URL.Path, req.URL.RawQuery, _ = strings.Cut(tt.path, "?")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			res := rec.Result()
			require.Equal(t, http.StatusOK, res.StatusCode)
			assert.Equal(t, string(want), body(t, res))
			assert.Equal(t, tt.contentType, res.Header.Get("Content-Type"))
			assert.Equal(t, "public, max-age=31536000, immutable", res.Header.Get("Cache-Control"))
			assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
			assert.Regexp(t, `^"[0-9a-f]{32}"$`, res.Header.Get("ETag"), "a strong, quoted ETag")
			assert.Equal(t, "*", res.Header.Get("Access-Control-Allow-Origin"))
		})
	}
}

func TestETagDiffersPerFileAndIsStable(t *testing.T) {
	h := hooks.New()
	js := serve(t, h, http.MethodGet, "/sealkit-resume.js", nil).Header.Get("ETag")
	ts := serve(t, h, http.MethodGet, "/sealkit-resume.d.ts", nil).Header.Get("ETag")
	assert.NotEqual(t, js, ts)
	assert.Equal(t, js, serve(t, hooks.New(), http.MethodGet, "/sealkit-resume.js", nil).Header.Get("ETag"))
}

func TestConditionalGet(t *testing.T) {
	h := hooks.New()
	etag := serve(t, h, http.MethodGet, "/sealkit-resume.js", nil).Header.Get("ETag")
	require.NotEmpty(t, etag)
	tests := []struct {
		name, ifNoneMatch string
		want              int
	}{
		{"exact", etag, http.StatusNotModified},
		{"weak form of the tag", "W/" + etag, http.StatusNotModified},
		{"in a list", `"nope", ` + etag + `, "other"`, http.StatusNotModified},
		{"list without spaces", `"nope",` + etag, http.StatusNotModified},
		{"star", "*", http.StatusNotModified},
		{"other tag", `"0123"`, http.StatusOK},
		{"unquoted tag", etag[1 : len(etag)-1], http.StatusOK},
		{"garbage", `,,, "`, http.StatusOK},
	}
	for _, tt := range tests {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			t.Run(tt.name+"/"+method, func(t *testing.T) {
				res := serve(t, h, method, "/sealkit-resume.js", http.Header{"If-None-Match": {tt.ifNoneMatch}})
				require.Equal(t, tt.want, res.StatusCode)
				assert.Equal(t, etag, res.Header.Get("ETag"))
				assert.Equal(t, "public, max-age=31536000, immutable", res.Header.Get("Cache-Control"))
				if tt.want == http.StatusNotModified || method == http.MethodHead {
					assert.Empty(t, body(t, res))
				} else {
					assert.NotEmpty(t, body(t, res))
				}
			})
		}
	}
}

func TestHeadHasHeadersAndNoBody(t *testing.T) {
	want, err := os.ReadFile(hooks.ScriptFile)
	require.NoError(t, err)
	res := serve(t, hooks.New(), http.MethodHead, "/sealkit-resume.js", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/javascript; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Equal(t, strconv.Itoa(len(want)), res.Header.Get("Content-Length"))
	assert.Empty(t, body(t, res))
}

func TestRejects(t *testing.T) {
	h := hooks.New()
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/sealkit-resume.js", http.StatusMethodNotAllowed},
		{http.MethodPut, "/sealkit-resume.d.ts", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/sealkit-resume.js", http.StatusMethodNotAllowed},
		{http.MethodOptions, "/sealkit-resume.js", http.StatusMethodNotAllowed},
		{http.MethodGet, "/", http.StatusNotFound},
		{http.MethodGet, "/doc.go", http.StatusNotFound},
		{http.MethodGet, "/hooks/sealkit-resume.js", http.StatusNotFound},
		{http.MethodGet, "/sealkit-resume.js/", http.StatusNotFound},
		{http.MethodGet, "//sealkit-resume.js", http.StatusNotFound},
		{http.MethodGet, "/SEALKIT-RESUME.JS", http.StatusNotFound},
		{http.MethodPost, "/nope", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			res := serve(t, h, tt.method, tt.path, nil)
			assert.Equal(t, tt.want, res.StatusCode)
			if tt.want == http.StatusMethodNotAllowed {
				assert.Equal(t, "GET, HEAD", res.Header.Get("Allow"))
			}
			assert.Empty(t, res.Header.Get("ETag"))
		})
	}
}

func TestIntegrityIsSHA384OfTheServedBytes(t *testing.T) {
	h := hooks.New()
	for _, name := range []string{hooks.ScriptFile, hooks.TypesFile} {
		t.Run(name, func(t *testing.T) {
			served := body(t, serve(t, h, http.MethodGet, "/"+name, nil))
			onDisk, err := os.ReadFile(name)
			require.NoError(t, err)
			require.Equal(t, string(onDisk), served)
			sum := sha512.Sum384(onDisk)
			got, err := h.Integrity(name)
			require.NoError(t, err)
			assert.Equal(t, "sha384-"+base64.StdEncoding.EncodeToString(sum[:]), got)
		})
	}
}
