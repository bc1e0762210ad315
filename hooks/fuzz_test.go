package hooks_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sealkit/sealkit/hooks"
)

// FuzzServeHTTP throws arbitrary methods, paths and conditional headers at
// the handler: it must never panic, answer only with the statuses it
// documents, and send the ETag with every file it serves.
func FuzzServeHTTP(f *testing.F) {
	f.Add("GET", "/sealkit-resume.js", "", "")
	f.Add("HEAD", "/sealkit-resume.d.ts", "*", "")
	f.Add("GET", "sealkit-resume.js", `W/"x", "y"`, "bytes=0-10")
	f.Add("POST", "/sealkit-resume.js", "", "")
	f.Add("GET", "/../etc/passwd", `"`, "bytes=99999-")
	f.Add("GET", "/sealkit-resume.js", `,,,"`, "bytes=-5,1-2")
	h := hooks.New()
	f.Fuzz(func(t *testing.T, method, path, ifNoneMatch, rng string) {
		req := &http.Request{Method: method, URL: &url.URL{Path: path}, Header: http.Header{}}
		req.Header.Set("If-None-Match", ifNoneMatch)
		req.Header.Set("Range", rng)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusPartialContent, http.StatusNotModified:
			if rec.Header().Get("ETag") == "" {
				t.Fatalf("%d without ETag", rec.Code)
			}
			if rec.Code == http.StatusNotModified && ifNoneMatch == "" {
				t.Fatal("304 without If-None-Match")
			}
		case http.StatusRequestedRangeNotSatisfiable: // an error: net/http drops the ETag
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			if rec.Header().Get("ETag") != "" {
				t.Fatalf("%d with ETag", rec.Code)
			}
		default:
			t.Fatalf("unexpected status %d", rec.Code)
		}
	})
}

// FuzzImportMap feeds arbitrary prefixes to ImportMap: it refuses them or
// renders one script element whose text is a JSON import map with no "<"
// in it, so nothing in a prefix can end the element or start another.
func FuzzImportMap(f *testing.F) {
	for _, p := range []string{"/hooks", "https://cdn.example/a/", `/a"</script><x>&`, "javascript:x", "%zz", "/\u2028"} {
		f.Add(p)
	}
	h := hooks.New()
	f.Fuzz(func(t *testing.T, prefix string) {
		tag, err := h.ImportMap(prefix)
		if err != nil {
			if !errors.Is(err, hooks.ErrBadPrefix) {
				t.Fatalf("error %v does not wrap ErrBadPrefix", err)
			}
			return
		}
		text, ok := strings.CutPrefix(string(tag), `<script type="importmap">`)
		text, ok2 := strings.CutSuffix(text, `</script>`)
		if !ok || !ok2 || strings.Contains(text, "<") {
			t.Fatalf("not one script element: %s", tag)
		}
		var m struct{ Imports, Integrity map[string]string }
		if err := json.Unmarshal([]byte(text), &m); err != nil || len(m.Imports) != 1 || len(m.Integrity) != 1 {
			t.Fatalf("not an import map (%v): %s", err, text)
		}
	})
}
