package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where the browser is looked for first; then "chromium" on
// PATH.
const ChromiumPath = "/usr/bin/chromium"

// RequireToolsEnv, set to 1, turns a missing Chromium from a skip into a
// failure. make test sets it.
const RequireToolsEnv = "SEALKIT_REQUIRE_TOOLS"

// DefaultTabTimeout bounds everything one test does in its tab, so that a
// hung page fails the test instead of the whole run.
const DefaultTabTimeout = 60 * time.Second

// ErrNoChromium is reported when no Chromium binary is found.
var ErrNoChromium = errors.New("browsertest: chromium not found")

// Browser is one headless Chromium shared by the tests of a package. It
// starts at the first [Browser.Tab] and stops at [Browser.Close]. Its methods
// are safe for concurrent use.
type Browser struct {
	path    string // the Chromium binary; empty: ChromiumPath, then PATH
	mu      sync.Mutex
	started bool
	err     error              // why the browser could not start
	ctx     context.Context    // the browser's first tab; tabs derive from it
	stop    context.CancelFunc // closes the browser and waits for its processes
}

// Option configures a Browser.
type Option func(*Browser)

// ExecPath makes the Browser run the Chromium binary at path, and nothing
// else.
func ExecPath(path string) Option { return func(b *Browser) { b.path = path } }

// NewBrowser returns a Browser that starts Chromium when a test first asks for
// a tab.
func NewBrowser(opts ...Option) *Browser {
	b := &Browser{}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Flags returns the command-line flags Chromium runs with (besides the
// remote-debugging pipe and the temporary --user-data-dir that chromedp adds
// and removes with the browser).
func Flags() []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		// Tabs that are not in front keep their timers and stay visible, so
		// tests in parallel tabs see the same page lifecycle.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
}

// findChromium returns the path of the Chromium binary.
func findChromium(path string) (string, error) {
	if path != "" {
		if _, err := exec.LookPath(path); err != nil {
			return "", fmt.Errorf("%w: %w", ErrNoChromium, err)
		}
		return path, nil
	}
	if _, err := os.Stat(ChromiumPath); err == nil {
		return ChromiumPath, nil
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%w at %s or on PATH", ErrNoChromium, ChromiumPath)
}

// start launches the browser once; later calls return the first outcome.
func (b *Browser) start() (context.Context, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return b.ctx, b.err
	}
	b.started = true
	path, err := findChromium(b.path)
	if err != nil {
		b.err = err
		return nil, err
	}
	opts := append([]chromedp.ExecAllocatorOption{chromedp.ExecPath(path)}, Flags()...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	b.stop = func() {
		cancelBrowser()
		cancelAlloc() // waits until the processes exited and the profile is gone
	}
	// The first Run starts the browser and binds it to ctx: no timeout here.
	if err := chromedp.Do(ctx); err != nil {
		b.stop()
		b.stop = nil
		b.err = fmt.Errorf("browsertest: start %s: %w", path, err)
		return nil, b.err
	}
	b.ctx = ctx
	return ctx, nil
}

// Tab opens a new tab for the test in its own browser context (separate
// cookies, storage and cache) and returns its chromedp context, bounded by
// [DefaultTabTimeout]. The tab closes when the test ends; the browser's
// console messages and uncaught exceptions go to t.Log.
//
// Without Chromium, Tab skips the test, or fails it when SEALKIT_REQUIRE_TOOLS
// is 1.
func (b *Browser) Tab(t testing.TB) context.Context {
	t.Helper()
	bctx, err := b.start()
	if errors.Is(err, ErrNoChromium) {
		Missing(t, err.Error(), "install chromium (apt-get install chromium)")
		return nil
	}
	if err != nil {
		t.Fatal(err)
		return nil
	}
	tab, closeTab := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	console := chromedp.Console(tab)
	// The first Run on the tab opens it; it must carry no timeout.
	if err := chromedp.Do(tab); err != nil {
		closeTab()
		t.Fatalf("browsertest: open tab: %v", err)
	}
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		for m, err := range console {
			if err != nil {
				return
			}
			t.Logf("browser console: %s", m)
		}
	}()
	ctx, cancel := context.WithTimeout(tab, DefaultTabTimeout)
	t.Cleanup(func() {
		cancel()
		closeTab()
		<-logged
	})
	return ctx
}

// Close stops the browser, if it started, and waits until its processes are
// gone. Tabs must be closed first (their tests have ended).
func (b *Browser) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stop != nil {
		b.stop()
		b.stop = nil
	}
}

// Wrap returns m with a Run that closes the browser after the tests, for
// goleak.VerifyTestMain(b.Wrap(m)): the leak check then runs after Chromium
// and its goroutines are gone.
func (b *Browser) Wrap(m interface{ Run() int }) interface{ Run() int } {
	return wrapped{m: m, b: b}
}

type wrapped struct {
	m interface{ Run() int }
	b *Browser
}

func (w wrapped) Run() int {
	defer w.b.Close()
	return w.m.Run()
}
