package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sealkit/sealkit/internal/browsertest"
)

var browser = browsertest.NewBrowser()

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(browser.Wrap(m))
}

func page(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>%s</title><script>console.log("hello from %s")</script>`, r.URL.Query().Get("t"), r.URL.Query().Get("t"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestTab(t *testing.T) {
	srv := page(t)
	ctx := browser.Tab(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/?t=one")))
	title, err := chromedp.Run(ctx, chromedp.Title())
	require.NoError(t, err)
	assert.Equal(t, "one", title)
	ua, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`))
	require.NoError(t, err)
	assert.Contains(t, ua, "Headless")
}

// Tabs live in separate browser contexts: one test's storage is not
// another's.
func TestTabsAreIsolated(t *testing.T) {
	srv := page(t)
	a, b := browser.Tab(t), browser.Tab(t)
	require.NoError(t, chromedp.Do(a, chromedp.Navigate(srv.URL+"/?t=a")))
	require.NoError(t, chromedp.Do(b, chromedp.Navigate(srv.URL+"/?t=b")))
	_, err := chromedp.Run(a, chromedp.Evaluate[chromedp.Void](`localStorage.setItem("k", "a"); document.cookie = "c=a"`))
	require.NoError(t, err)
	got, err := chromedp.Run(b, chromedp.Evaluate[string](`String(localStorage.getItem("k")) + "|" + document.cookie`))
	require.NoError(t, err)
	assert.Equal(t, "null|", got)
}

// fakeTB records Skipf and Fatalf instead of ending the test.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper()                          {}
func (f *fakeTB) Skipf(format string, args ...any) { f.skipped = fmt.Sprintf(format, args...) }
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
}
func (f *fakeTB) Fatal(args ...any) { f.failed = fmt.Sprint(args...) }

// Without Chromium, Tab skips, unless SEALKIT_REQUIRE_TOOLS=1: then it fails
// and says why.
func TestMissingChromium(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-chromium-here")
	tests := []struct {
		env          string
		skip, fail   bool
		failContains string
	}{
		{env: "", skip: true},
		{env: "0", skip: true},
		{env: "1", fail: true, failContains: "SEALKIT_REQUIRE_TOOLS=1 forbids skipping"},
	}
	for _, tt := range tests {
		t.Run("SEALKIT_REQUIRE_TOOLS="+tt.env, func(t *testing.T) {
			t.Setenv(browsertest.RequireToolsEnv, tt.env)
			b := browsertest.NewBrowser(browsertest.ExecPath(missing))
			defer b.Close()
			tb := &fakeTB{TB: t}
			ctx := b.Tab(tb)
			assert.Nil(t, ctx)
			assert.Equal(t, tt.skip, tb.skipped != "", "skipped: %q", tb.skipped)
			assert.Equal(t, tt.fail, tb.failed != "", "failed: %q", tb.failed)
			assert.Contains(t, tb.skipped+tb.failed, "chromium not found")
			assert.Contains(t, tb.failed, tt.failContains)
		})
	}
}

// Chromium runs with the pinned flags and a temporary profile.
func TestFlags(t *testing.T) {
	ctx := browser.Tab(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("chrome://version")))
	cmd, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("command_line")))
	require.NoError(t, err)
	for _, flag := range []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + os.TempDir()} {
		assert.Contains(t, cmd, flag)
	}
}
