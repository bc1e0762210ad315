package flysim

import (
	"bytes"
	"fmt"
	"io"
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

// EdgeTransport returns an http.RoundTripper that plays Fly's edge for a
// simulator at baseURL: a request for https://<app>.fly.dev/<path> goes to
// baseURL/livebook/<app>/<path>, the app's stand-in Livebook, through next
// (http.DefaultTransport if nil). Requests for other hosts fail. Give an
// http.Client with it to flylaunch.Options.Public, so that a deploy's
// check of its public URL reaches the simulator (and sees
// [Profile.EdgeDelay]).
func EdgeTransport(baseURL string, next http.RoundTripper) http.RoundTripper {
	return &edge{next: Transport(baseURL, next)}
}

type edge struct{ next http.RoundTripper }

func (t *edge) RoundTrip(req *http.Request) (*http.Response, error) {
	app, ok := strings.CutSuffix(req.URL.Hostname(), ".fly.dev")
	if !ok || app == "" || strings.Contains(app, ".") {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("flysim: %s is not an <app>.fly.dev host", req.URL.Host)
	}
	out := req.Clone(req.Context())
	out.URL.Path = "/livebook/" + app + "/" + strings.TrimPrefix(req.URL.Path, "/")
	out.URL.RawPath = ""
	return t.next.RoundTrip(out)
}

// Transport returns an http.RoundTripper that serves every request with s
// itself, on the calling goroutine: no listener, no socket, no address to
// know. s answers by path whatever the host, so fly-go's client can keep
// its api.machines.dev URLs: pass it as flaps.NewClientOpts.Transport (or
// to flylaunch.NewClient), and EdgeTransport("http://flysim.invalid",
// s.Transport()) to flylaunch.Options.Public. A request whose context is
// done is not served; the handler's response is buffered whole. With no
// socket it also runs inside a testing/synctest bubble, on the bubble's
// clock.
func (s *Server) Transport() http.RoundTripper { return handlerTransport{s} }

// handlerTransport serves each request with h, in the caller's goroutine.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	in := req.Clone(req.Context())
	if in.Body == nil {
		in.Body = http.NoBody
	}
	in.RequestURI = in.URL.RequestURI()
	in.RemoteAddr = "127.0.0.1:0"
	w := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
	t.h.ServeHTTP(w, in)
	_ = in.Body.Close()
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)),
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.header,
		Body:          io.NopCloser(bytes.NewReader(w.body.Bytes())),
		ContentLength: int64(w.body.Len()),
		Request:       req,
	}, nil
}

// bufferedResponse is the http.ResponseWriter handlerTransport hands out.
type bufferedResponse struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (w *bufferedResponse) Header() http.Header { return w.header }

func (w *bufferedResponse) WriteHeader(status int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = status, true
	}
}

func (w *bufferedResponse) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}
