package flysim

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Transport returns an http.RoundTripper that sends every request to
// baseURL's scheme and host (and path prefix, if any) instead of its own,
// through next (http.DefaultTransport if nil). fly-go has no base-URL
// option; pass this as flaps.NewClientOpts.Transport to talk to a
// simulator. An invalid baseURL makes every request fail with the parse
// error.
func Transport(baseURL string, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	u, err := url.Parse(baseURL)
	if err == nil && (u.Scheme != "http" && u.Scheme != "https" || u.Host == "") {
		err = fmt.Errorf("flysim: base URL %q must be absolute http(s)", baseURL)
	}
	return &rewriter{base: u, err: err, next: next}
}

type rewriter struct {
	base *url.URL
	err  error
	next http.RoundTripper
}

func (t *rewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, t.err
	}
	out := req.Clone(req.Context())
	out.URL.Scheme = t.base.Scheme
	out.URL.Host = t.base.Host
	if prefix := strings.TrimSuffix(t.base.Path, "/"); prefix != "" {
		out.URL.Path = prefix + req.URL.Path
		if req.URL.RawPath != "" {
			out.URL.RawPath = strings.TrimSuffix(t.base.EscapedPath(), "/") + req.URL.RawPath
		}
	}
	out.Host = ""
	return t.next.RoundTrip(out)
}
