package hooks_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
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
