package hooks_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sealkit/sealkit/hooks"
)

// BenchmarkServe measures a full response and a revalidation (304), the two
// requests a browser makes for the module.
func BenchmarkServe(b *testing.B) {
	h := hooks.New()
	etag := serveBench(h, "").Header().Get("ETag")
	for _, bb := range []struct{ name, ifNoneMatch string }{{"200", ""}, {"304", etag}} {
		b.Run(bb.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/sealkit-resume.js", nil)
			if bb.ifNoneMatch != "" {
				req.Header.Set("If-None-Match", bb.ifNoneMatch)
			}
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
			}
		})
	}
}

func serveBench(h http.Handler, inm string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/sealkit-resume.js", nil)
	if inm != "" {
		req.Header.Set("If-None-Match", inm)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// BenchmarkNew measures hashing the embedded files, once per Handler.
func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = hooks.New()
	}
}
