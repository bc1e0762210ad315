package hooks

import (
	"bytes"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"
)

// Asset is one file of the application's own (a module script, a style
// sheet, an icon, typically embedded with go:embed) served as the
// [Handler] serves [ScriptFile]: with a strong ETag from its bytes (304 on
// a matching If-None-Match), X-Content-Type-Options: nosniff, for GET and
// HEAD only (405 otherwise), and with a Subresource Integrity value to pin
// it by. Link to it through [Asset.URL], whose version changes with the
// bytes, so a page never runs a copy of an earlier release.
//
// Unlike the Handler's files an Asset is revalidated on every use
// (Cache-Control: no-cache, then 304 while unchanged): during a rolling
// release, a page from one instance may fetch its versioned URL from an
// instance that holds other bytes, and a long-lived cache would keep them
// under that URL.
//
// An Asset is immutable and safe for concurrent use.
type Asset struct {
	body        []byte
	contentType string
	etag        string // strong and quoted: "<hex>"
	version     string // short hex digest, the v= of versioned URLs
	integrity   string // Subresource Integrity: sha384-<base64>
}

// NewAsset returns the Asset of a copy of body, served as contentType
// ("text/javascript; charset=utf-8", say). It returns an error if
// contentType is not a media type, type/subtype with parameters.
func NewAsset(body []byte, contentType string) (*Asset, error) {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.Contains(mediaType, "/") {
		return nil, fmt.Errorf("hooks: asset content type %q is not type/subtype", contentType)
	}
	return newAsset(bytes.Clone(body), contentType), nil
}

func newAsset(body []byte, contentType string) *Asset {
	sum := sha512.Sum384(body)
	return &Asset{
		body:        body,
		contentType: contentType,
		etag:        `"` + hex.EncodeToString(sum[:16]) + `"`,
		version:     hex.EncodeToString(sum[:6]),
		integrity:   "sha384-" + base64.StdEncoding.EncodeToString(sum[:]),
	}
}

// URL returns the versioned URL of the Asset mounted at path (a path
// without query, as pages request it): path + "?v=" + a short digest of
// the bytes. The Asset ignores the query, so every version's URL serves
// the bytes it holds.
func (a *Asset) URL(path string) string { return path + "?v=" + a.version }

// Integrity returns the Subresource Integrity value of the Asset,
// "sha384-" and the base64 SHA-384 of its bytes, for the integrity
// attribute of its script or link tag.
func (a *Asset) Integrity() string { return a.integrity }

// ServeHTTP serves the Asset. Conditional requests and ranges follow
// [net/http.ServeContent].
func (a *Asset) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.serve(w, r, "no-cache")
}

// serve answers r with the Asset under cacheControl, or 405 for a method
// other than GET and HEAD.
func (a *Asset) serve(w http.ResponseWriter, r *http.Request, cacheControl string) {
	hdr := w.Header()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("ETag", a.etag)
	hdr.Set("Cache-Control", cacheControl)
	hdr.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
