package hooks_test

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/hooks"
)

// importMapPage is a page under a Content-Security-Policy without inline
// script: its import map is allowed by hash, its own module is a static
// file that imports the hooks module by its bare specifier.
var importMapPage = template.Must(template.New("importmap").Parse(`<!doctype html>
<meta charset="utf-8">
<script src="/watch.js"></script>
{{.ImportMap}}
<script type="module" src="/app.js"></script>
`))

const (
	// watchJS records every script that fails and every CSP violation.
	watchJS = `window.failed = [];
addEventListener("error", (e) => failed.push(e.message || (e.target && e.target.src) || "error"), true);
addEventListener("securitypolicyviolation", (e) => failed.push("csp: " + e.effectiveDirective));
`
	// appJS is a page's own module: no version, no URL, no template.
	appJS = `import {PROTOCOL, connectResume} from "sealkit-resume";
window.imported = PROTOCOL + " " + typeof connectResume;
`
)

// TestImportMapInChromium shows that Chromium resolves "sealkit-resume"
// through ImportMap under a strict CSP that allows the map by
// ImportMapHash, refuses bytes that do not match the map's integrity, and
// refuses the map itself without its hash.
func TestImportMapInChromium(t *testing.T) {
	h := hooks.New()
	importMap, err := h.ImportMap("/hooks")
	require.NoError(t, err)
	hash, err := h.ImportMapHash("/hooks")
	require.NoError(t, err)
	integrity, err := h.Integrity(hooks.ScriptFile)
	require.NoError(t, err)
	wrong, err := h.Integrity(hooks.TypesFile) // a valid sha384, of other bytes
	require.NoError(t, err)
	badMap := template.HTML(strings.Replace(string(importMap), integrity, wrong, 1))
	badText := strings.TrimSuffix(strings.TrimPrefix(string(badMap), `<script type="importmap">`), `</script>`)
	badSum := sha256.Sum256([]byte(badText))
	badHash := "'sha256-" + base64.StdEncoding.EncodeToString(badSum[:]) + "'"

	tests := []struct {
		name      string
		importMap template.HTML
		scriptSrc string // the policy's script-src
		imported  bool
		failure   string // in one of the failures recorded
	}{
		{"allowed by its hash", importMap, "'self' " + hash, true, ""},
		{"wrong integrity", badMap, "'self' " + badHash, false, "/app.js"},
		{"no hash in the policy", importMap, "'self'", false, "csp: script-src"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.Handle("/hooks/", http.StripPrefix("/hooks", h))
			script := func(body string) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
					_, _ = w.Write([]byte(body))
				}
			}
			mux.Handle("GET /watch.js", script(watchJS))
			mux.Handle("GET /app.js", script(appJS))
			mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src "+tt.scriptSrc)
				_ = importMapPage.Execute(w, map[string]any{"ImportMap": tt.importMap})
			})
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)

			ctx := browser.Tab(t)
			require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")))
			_, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.imported !== undefined || (window.failed !== undefined && failed.length > 0)`))
			require.NoError(t, err)
			imported, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.imported || ""`))
			require.NoError(t, err)
			failed, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`failed`))
			require.NoError(t, err)
			if tt.imported {
				assert.Equal(t, "sealkit.resume.v1 function", imported)
				assert.Empty(t, failed)
			} else {
				assert.Empty(t, imported, "the module did not run")
				assert.Contains(t, strings.Join(failed, "\n"), tt.failure)
			}
		})
	}
}
