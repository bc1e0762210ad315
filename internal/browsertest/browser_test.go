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

// Without the command, Tool skips, unless SEALKIT_REQUIRE_TOOLS=1: then it
// fails and says how to install it.
func TestTool(t *testing.T) {
	tests := []struct {
		env, name  string
		want       bool // a path comes back
		skip, fail bool
	}{
		{env: "1", name: "sh", want: true},
		{env: "", name: "no-such-tool-here", skip: true},
		{env: "1", name: "no-such-tool-here", fail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/SEALKIT_REQUIRE_TOOLS="+tt.env, func(t *testing.T) {
			t.Setenv(browsertest.RequireToolsEnv, tt.env)
			tb := &fakeTB{TB: t}
			path := browsertest.Tool(tb, tt.name, "apt-get install it")
			assert.Equal(t, tt.want, path != "", "path %q", path)
			assert.Equal(t, tt.skip, tb.skipped != "", "skipped: %q", tb.skipped)
			assert.Equal(t, tt.fail, tb.failed != "", "failed: %q", tb.failed)
			if tt.skip || tt.fail {
				assert.Contains(t, tb.skipped+tb.failed, tt.name+" not found on PATH")
				assert.Contains(t, tb.skipped+tb.failed, "apt-get install it")
			}
		})
	}
}

// The recorder sees console calls, uncaught exceptions and unhandled
// rejections, and Sync orders a check after everything the page wrote.
func TestRecordConsole(t *testing.T) {
	srv := page(t)
	ctx := browser.Tab(t)
	console := browsertest.RecordConsole(t, ctx)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/?t=console")))
	_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`
		console.error("an error");
		setTimeout(() => { throw new Error("thrown"); });
		Promise.reject(new Error("rejected"));
		undefined`))
	require.NoError(t, err)
	// The timer fires after this evaluation: wait for it in the page first.
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`new Promise((r) => setTimeout(() => r(true), 10))`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.NoError(t, console.Sync(ctx))

	var texts []string
	for _, m := range console.Messages() {
		texts = append(texts, string(m.Type)+": "+m.Text)
	}
	assert.Contains(t, texts, "log: hello from console")
	assert.Contains(t, texts, "error: an error")
	var exceptions []string
	for _, m := range console.Exceptions() {
		exceptions = append(exceptions, m.Text)
	}
	require.Len(t, exceptions, 2, "%q", texts)
	assert.Contains(t, exceptions[0]+exceptions[1], "rejected")
	assert.Contains(t, exceptions[0]+exceptions[1], "thrown")
}
