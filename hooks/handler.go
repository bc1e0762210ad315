package hooks

import (
	"bytes"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
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

// asset is one embedded file with everything computed from its bytes.
type asset struct {
	body        []byte
	contentType string
	etag        string // strong and quoted: "<hex>"
	version     string // short hex digest, the v= of versioned URLs
	integrity   string // Subresource Integrity: sha384-<base64>
}

// Handler serves [ScriptFile] and [TypesFile] with a strong ETag, immutable
// long-lived caching and X-Content-Type-Options: nosniff, for GET and HEAD. A
// request for an embedded file with another method gets 405; any other path
// gets 404. The file name is the request path with or without a leading
// slash, so mount the handler with [net/http.StripPrefix]. The query is
// ignored, so versioned URLs from [Handler.URL] serve the same bytes.
//
// A Handler is immutable after [New] and safe for concurrent use.
type Handler struct {
	files map[string]asset
}

// New hashes the embedded files and returns their Handler.
func New() *Handler {
	h := &Handler{files: make(map[string]asset, 2)}
	for name, contentType := range map[string]string{
		ScriptFile: "text/javascript; charset=utf-8",
		TypesFile:  "application/typescript; charset=utf-8",
	} {
		body, err := embedded.ReadFile(name)
		if err != nil { // cannot happen: go:embed fails the build instead
			continue
		}
		sum := sha512.Sum384(body)
		h.files[name] = asset{
			body:        body,
			contentType: contentType,
			etag:        `"` + hex.EncodeToString(sum[:16]) + `"`,
			version:     hex.EncodeToString(sum[:6]),
			integrity:   "sha384-" + base64.StdEncoding.EncodeToString(sum[:]),
		}
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
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("ETag", a.etag)
	hdr.Set("Cache-Control", cacheControl)
	hdr.Set("X-Content-Type-Options", "nosniff")
	// Public, credential-free bytes: other origins may load them too, which
	// a module script with integrity needs (module fetches use CORS).
	hdr.Set("Access-Control-Allow-Origin", "*")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
