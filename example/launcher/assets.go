package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"time"
)

//go:embed web/app.js web/manage.js web/style.css web/index.html web/manage.html web/favicon.svg
var webFS embed.FS

// asset is an embedded file served with a strong ETag and, for scripts, a
// subresource-integrity hash for the page to pin.
type asset struct {
	body        []byte
	contentType string
	etag        string
	integrity   string
}

func newAsset(name, contentType string) (*asset, error) {
	b, err := webFS.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("embedded %s: %w", name, err)
	}
	sum := sha256.Sum256(b)
	sri := sha512.Sum384(b)
	return &asset{
		body:        b,
		contentType: contentType,
		etag:        `"` + hex.EncodeToString(sum[:16]) + `"`,
		integrity:   "sha384-" + base64.StdEncoding.EncodeToString(sri[:]),
	}, nil
}

// ServeHTTP serves the asset; the browser revalidates it on every use
// (no-cache) and gets 304 while it is unchanged.
func (a *asset) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", a.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// pageTemplate parses the embedded page name.
func pageTemplate(name string) (*template.Template, error) {
	return template.ParseFS(webFS, name)
}
