package hooks_test

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/hooks"
)

// sriPage renders ScriptTag's output, then imports the same URL from an
// inline module. A capturing error listener records scripts that failed.
var sriPage = template.Must(template.New("sri").Parse(`<!doctype html>
<meta charset="utf-8">
<script>
window.failed = [];
addEventListener("error", (e) => { if (e.target && e.target.src) failed.push(e.target.src); }, true);
</script>
{{.Tag}}
<script type="module">
import * as m from {{.URL}};
window.exported = Object.keys(m).sort();
</script>
<script type="module">window.done = true;</script>
`))

// TestScriptTagIntegrityInChromium shows that Chromium accepts the
// integrity of ScriptTag, refuses a wrong one, and that an import of the
// versioned URL reuses the checked module (one request).
func TestScriptTagIntegrityInChromium(t *testing.T) {
	h := hooks.New()
	tag, err := h.ScriptTag("/hooks")
	require.NoError(t, err)
	src, err := h.URL("/hooks", hooks.ScriptFile)
	require.NoError(t, err)
	integrity, err := h.Integrity(hooks.ScriptFile)
	require.NoError(t, err)
	wrong, err := h.Integrity(hooks.TypesFile) // a valid sha384, of other bytes
	require.NoError(t, err)

	tests := []struct {
		name     string
		tag      template.HTML
		failed   bool
		requests int64
	}{
		{"ScriptTag", tag, false, 1},
		{"wrong integrity", template.HTML(strings.Replace(string(tag), integrity, wrong, 1)), true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int64
			mux := http.NewServeMux()
			mux.Handle("/hooks/", http.StripPrefix("/hooks", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				h.ServeHTTP(w, r)
			})))
			mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				_ = sriPage.Execute(w, map[string]any{"Tag": tt.tag, "URL": src})
			})
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)

			ctx := browser.Tab(t)
			require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")))
			_, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.done === true && (window.exported !== undefined || failed.length > 0)`))
			require.NoError(t, err)
			failed, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`failed`))
			require.NoError(t, err)
			if tt.failed {
				assert.Equal(t, []string{srv.URL + src}, failed, "Chromium refused the bytes")
			} else {
				assert.Empty(t, failed)
				exported, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`exported`))
				require.NoError(t, err)
				assert.Equal(t, jsExports(t), exported)
			}
			assert.Equal(t, tt.requests, requests.Load(), "the tag and the import share one fetch")
		})
	}
}
