package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// pollOpts bounds every wait of the end-to-end tests.
var pollOpts = []chromedp.PollOption{chromedp.WithPollingTimeout(45 * time.Second), chromedp.WithPollingInterval(50 * time.Millisecond)}

// waitJS waits until the JavaScript expression is truthy.
func waitJS(t testing.TB, ctx context.Context, what, expr string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool]("Boolean("+expr+")", pollOpts...))
	if err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
			status: document.getElementById('status')?.textContent,
			error: document.querySelector('[data-test=error]')?.textContent,
			step: document.querySelector('[data-test=step]')?.textContent,
			storage: Object.keys(sessionStorage),
			location: location.href})`))
		t.Fatalf("waiting for %s: %v; page state: %s", what, err, state)
	}
}

// evalJS evaluates expr and decodes its value.
func evalJS[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, "evaluate %s", expr)
	return v
}

// shown is a JavaScript expression: the data-test element is displayed.
func shown(name string) string {
	return fmt.Sprintf(`(() => { const e = document.querySelector('[data-test=%q]'); return e && !e.closest('[hidden]') && e.getClientRects().length > 0; })()`, name)
}

// openPage opens the launcher and waits until its connection is up.
func openPage(t testing.TB, ctx context.Context, url string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url)))
	waitConnected(t, ctx)
}

// waitConnected waits until the page's resume connection is open.
func waitConnected(t testing.TB, ctx context.Context) {
	t.Helper()
	waitJS(t, ctx, "the connection", `document.getElementById('status').dataset.status === 'open'`)
}

// launch fills the form with app and clicks Launch.
func launch(t testing.TB, ctx context.Context, app string) {
	t.Helper()
	waitJS(t, ctx, "the Launch button", `!document.querySelector('[data-test=launch]').disabled`)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#app"), app),
		chromedp.Click(chromedp.CSS(`[data-test=launch]`)),
	))
}

// progress returns the progress bar's value attribute, -1 while hidden.
func progress(t testing.TB, ctx context.Context) int {
	t.Helper()
	s := evalJS[string](t, ctx, `(() => { const e = document.querySelector('[data-test=progress]'); return e.closest('[hidden]') ? "-1" : e.getAttribute('value'); })()`)
	f, err := strconv.ParseFloat(s, 64) // the bar moves smoothly between updates
	require.NoError(t, err)
	return int(f)
}

// waitMidDeploy waits until the progress bar shows a deploy under way and
// past at least percent.
func waitMidDeploy(t testing.TB, ctx context.Context, percent int) {
	t.Helper()
	waitJS(t, ctx, fmt.Sprintf("progress past %d%%", percent), fmt.Sprintf(`%s && +document.querySelector('[data-test=progress]').getAttribute('value') >= %d`, shown("progress"), percent))
	require.Less(t, progress(t, ctx), 100, "the deploy finished before the test could interrupt it")
}

// summary waits for the summary and returns its absolute app URL and the
// password.
func summary(t testing.TB, ctx context.Context) (appURL, password string) {
	t.Helper()
	waitJS(t, ctx, "the summary", shown("summary"))
	appURL = evalJS[string](t, ctx, `document.querySelector('[data-test=url]').href`)
	password = evalJS[string](t, ctx, `document.querySelector('[data-test=password]').textContent`)
	require.NotEmpty(t, appURL)
	require.Len(t, password, len(rand.Text()))
	return appURL, password
}

// storageDump returns every sessionStorage entry of the page.
func storageDump(t testing.TB, ctx context.Context) map[string]string {
	t.Helper()
	return evalJS[map[string]string](t, ctx, `Object.fromEntries(Object.entries(sessionStorage))`)
}

// loginLivebook follows appURL to the stand-in Livebook and signs in.
func loginLivebook(t testing.TB, ctx context.Context, appURL, password string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(appURL),
		chromedp.WaitVisible(chromedp.CSS(`input[name=password]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-test=livebook-ok]`)),
	))
}
