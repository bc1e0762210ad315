package hooks

import (
	"errors"
	"fmt"
	"html"
	"html/template"
	"net/url"
	"strings"
)

// ErrUnknownFile is returned for a file name that the Handler does not serve.
var ErrUnknownFile = errors.New("hooks: unknown file")

// ErrBadPrefix is returned for a URL prefix that is not a plain http(s) or
// path-only URL without query or fragment.
var ErrBadPrefix = errors.New("hooks: bad URL prefix")

// Integrity returns the Subresource Integrity value of the named file,
// "sha384-" and the base64 SHA-384 of its bytes, for the integrity attribute
// of a script tag or an import map.
func (h *Handler) Integrity(name string) (string, error) {
	a, ok := h.files[name]
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrUnknownFile, name)
	}
	return a.integrity, nil
}

// URL returns the versioned URL of the named file under prefix, the path
// where the Handler is mounted: prefix + "/" + name + "?v=" + a short digest
// of the content. The Handler's immutable caching is safe only for such
// URLs: a new release is a new URL. Use the same URL in the script tag and in
// every import, so the browser loads the module once.
func (h *Handler) URL(prefix, name string) (string, error) {
	a, ok := h.files[name]
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrUnknownFile, name)
	}
	u, err := url.Parse(prefix)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadPrefix, err)
	}
	if (u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || (u.Scheme != "" && u.Host == "") {
		return "", fmt.Errorf("%w: %q", ErrBadPrefix, prefix)
	}
	return a.URL(strings.TrimSuffix(prefix, "/") + "/" + name), nil
}

// ScriptTag returns the module script tag of [ScriptFile] under prefix, with
// its versioned URL and its integrity:
//
//	<script type="module" src="/hooks/sealkit-resume.js?v=..." integrity="sha384-..."></script>
//
// The browser checks the bytes against the integrity before it runs them. An
// import of the same URL in the page reuses that module.
func (h *Handler) ScriptTag(prefix string) (template.HTML, error) {
	src, err := h.URL(prefix, ScriptFile)
	if err != nil {
		return "", err
	}
	integrity, err := h.Integrity(ScriptFile)
	if err != nil {
		return "", err
	}
	return template.HTML(`<script type="module" src="` + html.EscapeString(src) +
		`" integrity="` + integrity + `"></script>`), nil
}
