package hooks

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
)

// Specifier is the bare module specifier that [Handler.ImportMap] maps to
// [ScriptFile], so a page's modules import it by name:
//
//	import {connectResume} from "sealkit-resume";
const Specifier = "sealkit-resume"

// ImportMap returns the import map of a page that uses [ScriptFile], for an
// html/template page's head, before any module script:
//
//	<script type="importmap">{"imports":{"sealkit-resume":"/hooks/sealkit-resume.js?v=..."},"integrity":{"/hooks/sealkit-resume.js?v=...":"sha384-..."}}</script>
//
// It maps [Specifier] to the versioned URL of ScriptFile under prefix
// ([Handler.URL]) and pins that URL to the file's Subresource Integrity, so
// every module of the page, inline or a static file, imports
// "sealkit-resume" and gets these bytes or nothing, and no script names
// the version. A page has one import map: one that needs more entries
// builds its own from [Handler.URL] and [Handler.Integrity].
//
// The map is an inline script: a Content-Security-Policy without
// 'unsafe-inline' must allow it by its hash, [Handler.ImportMapHash].
func (h *Handler) ImportMap(prefix string) (template.HTML, error) {
	m, err := h.importMap(prefix)
	if err != nil {
		return "", err
	}
	return template.HTML(`<script type="importmap">` + m + `</script>`), nil
}

// ImportMapHash returns the Content-Security-Policy source that allows the
// script of ImportMap(prefix), "'sha256-...'", for the script-src of a
// policy without 'unsafe-inline':
//
//	script-src 'self' 'sha256-...'
func (h *Handler) ImportMapHash(prefix string) (string, error) {
	m, err := h.importMap(prefix)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(m))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'", nil
}

// importMap returns the JSON text of the import map under prefix. It is
// safe inside a script element: encoding/json escapes <, > and &.
func (h *Handler) importMap(prefix string) (string, error) {
	src, err := h.URL(prefix, ScriptFile)
	if err != nil {
		return "", err
	}
	integrity, err := h.Integrity(ScriptFile)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(struct {
		Imports   map[string]string `json:"imports"`
		Integrity map[string]string `json:"integrity"`
	}{
		Imports:   map[string]string{Specifier: src},
		Integrity: map[string]string{src: integrity},
	})
	if err != nil { // strings only: cannot happen
		return "", err
	}
	return string(b), nil
}
