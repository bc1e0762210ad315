package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failoverProxy is a reverse proxy in front of several launchers on one
// origin: it sends every request to the first backend not known dead, and
// marks a backend dead when it cannot be reached (the page then reconnects
// and lands on the next one).
type failoverProxy struct {
	mu       sync.Mutex
	backends []*url.URL
	dead     map[string]bool
	rp       *httputil.ReverseProxy

	// noWebSocket refuses WebSocket upgrades, as some proxies do, so pages
	// fall back to SSE; streams counts the SSE streams opened.
	noWebSocket bool
	streams     int
}

type backendKey struct{}

func newFailoverProxy(t testing.TB, backends ...string) *failoverProxy {
	p := &failoverProxy{dead: map[string]bool{}}
	for _, b := range backends {
		u, err := url.Parse(b)
		require.NoError(t, err)
		p.backends = append(p.backends, u)
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	p.rp = &httputil.ReverseProxy{
		Transport: tr,
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(r.In.Context().Value(backendKey{}).(*url.URL))
			r.Out.Host = r.In.Host // the launchers check Origin against Host
			r.SetXForwarded()
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, _ error) {
			if r.Context().Err() == nil { // the backend failed, not the client
				p.mu.Lock()
				p.dead[r.Context().Value(backendKey{}).(*url.URL).Host] = true
				p.mu.Unlock()
			}
			http.Error(w, "backend unavailable", http.StatusBadGateway)
		},
	}
	return p
}

func (p *failoverProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	if strings.HasSuffix(r.URL.Path, "/resume/stream") {
		p.streams++
	}
	if p.noWebSocket && r.Header.Get("Upgrade") != "" {
		p.mu.Unlock()
		http.Error(w, "no WebSocket here", http.StatusBadGateway)
		return
	}
	var target *url.URL
	for _, b := range p.backends {
		if !p.dead[b.Host] {
			target = b
			break
		}
	}
	p.mu.Unlock()
	if target == nil {
		http.Error(w, "no backend", http.StatusBadGateway)
		return
	}
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), backendKey{}, target)))
}

// TestE2EFailover runs two launchers sharing a key base and a standalone
// simulator behind one reverse proxy: the launcher serving the page dies
// mid-deploy and the other one finishes the deploy for the same page.
func TestE2EFailover(t *testing.T) {
	ctx := browser.Tab(t)
	simDir := t.TempDir()
	const token = "failover-test-token"
	sim := startProcRE(t, flysimBin(t), regexp.MustCompile(`^(http://\S+)`),
		[]string{"-addr", "127.0.0.1:0", "-data-dir", simDir, "-speed", testSimSpeed, "-token", token}, nil)
	flyArgs := []string{"-fly-api", sim.URL}
	flyEnv := []string{"SECRET_KEY_BASE=" + testKeyBase, "FLY_API_TOKEN=" + token}
	a := startProc(t, bins.launcher, append([]string{"-addr", "127.0.0.1:0", "-data-dir", t.TempDir()}, flyArgs...), flyEnv)
	b := startProc(t, bins.launcher, append([]string{"-addr", "127.0.0.1:0", "-data-dir", t.TempDir()}, flyArgs...), flyEnv)
	proxy := httptest.NewServer(newFailoverProxy(t, a.URL, b.URL))
	t.Cleanup(proxy.Close)

	openPage(t, ctx, proxy.URL)
	launch(t, ctx, "fail-over")
	waitMidDeploy(t, ctx, 20)
	require.Contains(t, a.output(), "launch started", "the first launcher serves the page")
	a.kill()

	appURL, password := summary(t, ctx)
	assert.Contains(t, b.output(), "launch resumed", "the second launcher took the deploy over")
	assert.NotContains(t, b.output(), "launch started")
	assert.Equal(t, map[string]int{"fail-over": 1}, simApps(t, simDir))
	assert.Equal(t, sim.URL+"/livebook/fail-over/", appURL)
	loginLivebook(t, ctx, appURL, password)
	b.mustNotContain(t, password)
	a.mustNotContain(t, password)
	b.stop()
}

// TestE2ESSEFallback puts the launcher behind a proxy that refuses
// WebSocket upgrades: the page falls back to SSE and POST, and a launch with
// a reload in the middle still ends at a working password.
func TestE2ESSEFallback(t *testing.T) {
	ctx := browser.Tab(t)
	dataDir := t.TempDir()
	l := startLauncher(t, "127.0.0.1:0", dataDir)
	p := newFailoverProxy(t, l.URL)
	p.noWebSocket = true
	proxy := httptest.NewServer(p)
	t.Cleanup(proxy.Close)

	openPage(t, ctx, proxy.URL)
	launch(t, ctx, "over-sse")
	waitMidDeploy(t, ctx, 10)
	require.NoError(t, chromedp.Do(ctx, chromedp.Reload()))
	appURL, password := summary(t, ctx)

	p.mu.Lock()
	streams := p.streams
	p.mu.Unlock()
	assert.GreaterOrEqual(t, streams, 2, "the page talked over SSE, before and after the reload")
	assert.Equal(t, map[string]int{"over-sse": 1}, simApps(t, filepath.Join(dataDir, "flysim")))
	assert.Empty(t, storageDump(t, ctx))
	loginLivebook(t, ctx, appURL, password)
}
