package hooks

import (
	"embed"
	"net/http"
	"strings"
)

// The files a Handler serves, by name.
const (
	// ScriptFile is the ES module: ResumeHook, connectResume and PROTOCOL.
	ScriptFile = "sealkit-resume.js"
	// TypesFile is the TypeScript declaration file of ScriptFile.
	TypesFile = "sealkit-resume.d.ts"
)

// cacheControl lets browsers and CDNs keep a file for a year without
// revalidating: URLs from [Handler.URL] change with the content.
const cacheControl = "public, max-age=31536000, immutable"

//go:embed sealkit-resume.js sealkit-resume.d.ts
var embedded embed.FS

// Handler serves [ScriptFile] and [TypesFile] with a strong ETag, immutable
// long-lived caching and X-Content-Type-Options: nosniff, for GET and HEAD. A
// request for an embedded file with another method gets 405; any other path
// gets 404. The file name is the request path with or without a leading
// slash, so mount the handler with [net/http.StripPrefix]. The query is
// ignored, so versioned URLs from [Handler.URL] serve the same bytes.
//
// A Handler is immutable after [New] and safe for concurrent use.
type Handler struct {
	files map[string]*Asset
}

// New hashes the embedded files and returns their Handler.
func New() *Handler {
	h := &Handler{files: make(map[string]*Asset, 2)}
	for name, contentType := range map[string]string{
		ScriptFile: "text/javascript; charset=utf-8",
		TypesFile:  "application/typescript; charset=utf-8",
	} {
		body, err := embedded.ReadFile(name)
		if err != nil { // cannot happen: go:embed fails the build instead
			continue
		}
		h.files[name] = newAsset(body, contentType)
	}
	return h
}

// ServeHTTP serves an embedded file. Conditional requests (If-None-Match with
// one tag, a list or "*") and ranges follow [net/http.ServeContent].
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a, ok := h.files[strings.TrimPrefix(r.URL.Path, "/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	// Public, credential-free bytes: other origins may load them too, which
	// a module script with integrity needs (module fetches use CORS).
	w.Header().Set("Access-Control-Allow-Origin", "*")
	a.serve(w, r, cacheControl)
}
