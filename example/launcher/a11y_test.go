package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/internal/browsertest"
)

// axeDir pins axe-core, the accessibility engine the tests run in the
// pages (package.json and package-lock.json; npm ci installs it).
const axeDir = "testdata/axe"

// axeOptions runs the WCAG 2.1 A and AA rules, and two that axe leaves
// out of them: label-content-name-mismatch (WCAG 2.5.3, label in name),
// which it marks experimental, and page-has-heading-one (a best practice:
// every state of a page has a level-one heading).
const axeOptions = `{
	runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
	rules: {'label-content-name-mismatch': {enabled: true}, 'page-has-heading-one': {enabled: true}},
}`

// axeSource is axe.min.js, read once.
var axeSource struct {
	once sync.Once
	js   string
}

// loadAxe installs axe-core (npm ci, skipped while node_modules matches the
// lock file) and returns axe.min.js, or "" after a skip.
func loadAxe(t *testing.T) string {
	t.Helper()
	axeSource.once.Do(func() {
		dir, err := filepath.Abs(axeDir)
		require.NoError(t, err)
		if browsertest.NPMCI(t, dir) == "" {
			return
		}
		b, err := os.ReadFile(filepath.Join(dir, "node_modules", "axe-core", "axe.min.js"))
		require.NoError(t, err)
		axeSource.js = string(b)
	})
	if axeSource.js == "" {
		browsertest.Missing(t, "axe-core is not installed", "install Node.js and npm (make deps)")
	}
	return axeSource.js
}

// axeViolation is one rule axe found broken, with the elements breaking it.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// checkAxe runs axe on the page as it is now (injecting axe first if the
// page has none) and reports each violation, its elements and why, as an
// error of the test: state names what the page shows.
func checkAxe(t *testing.T, ctx context.Context, axe, state string) {
	t.Helper()
	if !evalJS[bool](t, ctx, `typeof window.axe === 'object'`) {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axe))
		require.NoError(t, err, "inject axe-core")
	}
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](
		`axe.run(document, `+axeOptions+`).then((r) => r.violations)`,
		chromedp.EvalAwaitPromise))
	require.NoError(t, err, "axe.run")
	for _, v := range violations {
		var nodes []string
		for _, n := range v.Nodes {
			nodes = append(nodes, fmt.Sprintf("%v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " ")))
		}
		t.Errorf("%s: axe %s (%s, %s):\n\t%s", state, v.ID, v.Impact, v.Help, strings.Join(nodes, "\n\t"))
	}
}

// checkNoSideScroll fails when the page is wider than the screen.
func checkNoSideScroll(t *testing.T, ctx context.Context, state string) {
	t.Helper()
	sizes := evalJS[[]int](t, ctx, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`)
	assert.LessOrEqual(t, sizes[0], sizes[1], "%s: the page scrolls sideways (scrollWidth > clientWidth)", state)
}

// checkFocused fails when focus fell to <body> (or nowhere), and returns the
// focused element's id.
func checkFocused(t *testing.T, ctx context.Context, after string) string {
	t.Helper()
	focused := evalJS[string](t, ctx, `(() => { const e = document.activeElement; return !e || e === document.body ? '' : e.id || e.tagName; })()`)
	assert.NotEmpty(t, focused, "after %s, focus fell to <body>", after)
	return focused
}

// viewports are the screens the pages are checked on: a laptop and a
// phone (390 px, where nothing may scroll sideways).
var viewports = []struct{ width, height int64 }{{1280, 800}, {390, 844}}

// TestA11yLaunchPage runs axe-core (WCAG 2.1 A and AA) on the launch page's
// form, the form with an invalid app name, the progress view and the
// summary (before and after Copy), at 1280 and 390 px; checks where focus
// goes after Launch; and that nothing scrolls sideways on the phone.
func TestA11yLaunchPage(t *testing.T) {
	axe := loadAxe(t)
	if axe == "" {
		return
	}
	// The progress view is checked on a launcher whose deploy takes about
	// a minute, so that it stays on screen; the summary on a fast one.
	slow := startLauncher(t, "127.0.0.1:0", t.TempDir(), "-sim-speed", "1")
	fast := startLauncher(t, "127.0.0.1:0", t.TempDir())
	for _, vp := range viewports {
		t.Run(fmt.Sprint(vp.width), func(t *testing.T) {
			ctx := browser.Tab(t)
			require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(vp.width, vp.height)))
			openPage(t, ctx, slow.URL)
			checkAxe(t, ctx, axe, "form")
			checkNoSideScroll(t, ctx, "form")

			require.NoError(t, chromedp.Do(ctx,
				chromedp.SetValue(chromedp.CSS("#app"), "Not A Name!"),
				chromedp.Click(chromedp.CSS(`[data-test=launch]`)),
			))
			waitJS(t, ctx, "the error", shown("error"))
			assert.Equal(t, "true", evalJS[string](t, ctx, `String(document.getElementById('app').getAttribute('aria-invalid'))`), "the invalid app name is marked aria-invalid")
			assert.Contains(t, strings.Fields(evalJS[string](t, ctx, `document.getElementById('app').getAttribute('aria-describedby') || ''`)),
				evalJS[string](t, ctx, `document.querySelector('[data-test=error]').id`), "the field is described by its error")
			assert.Equal(t, "alert", evalJS[string](t, ctx, `document.querySelector('[data-test=error]').getAttribute('role')`))
			checkAxe(t, ctx, axe, "form with an invalid app name")

			launch(t, ctx, fmt.Sprintf("a11y-progress-%d", vp.width))
			waitJS(t, ctx, "the progress view", shown("progress")+` && document.querySelectorAll('#steps li').length > 0`)
			assert.False(t, evalJS[bool](t, ctx, `document.getElementById('app').hasAttribute('aria-invalid') && document.getElementById('app').getAttribute('aria-invalid') !== 'false'`),
				"a valid name is not marked invalid")
			focused := checkFocused(t, ctx, "Launch")
			assert.True(t, evalJS[bool](t, ctx, `document.getElementById('progress-view').contains(document.activeElement)`),
				"after Launch, focus is in the progress view, not on %s", focused)
			assert.Equal(t, "polite", evalJS[string](t, ctx, `document.querySelector('[data-test=step]').getAttribute('aria-live')`), "the progress is announced")
			checkAxe(t, ctx, axe, "progress")
			checkNoSideScroll(t, ctx, "progress")

			openPage(t, ctx, fast.URL) // another origin: a fresh sessionStorage
			launch(t, ctx, fmt.Sprintf("a11y-summary-%d", vp.width))
			summary(t, ctx)
			checkFocused(t, ctx, "the launch ended")
			checkAxe(t, ctx, axe, "summary")
			checkNoSideScroll(t, ctx, "summary")

			// Copy succeeds (the headless tab has no clipboard to grant):
			// the buttons then read "Copied", and their names must follow.
			require.NoError(t, chromedp.Do(ctx,
				chromedp.Evaluate[chromedp.Void](`navigator.clipboard.writeText = async () => {}`),
				chromedp.Click(chromedp.CSS(`#copy`)),
				chromedp.Click(chromedp.CSS(`#copy-manage`)),
			))
			waitJS(t, ctx, "the copy to be announced", `document.getElementById('copy-status').textContent !== ''`)
			assert.Equal(t, "Copied", evalJS[string](t, ctx, `document.querySelector('#copy span').textContent`))
			assert.Equal(t, "polite", evalJS[string](t, ctx, `document.getElementById('copy-status').getAttribute('aria-live')`), "the copy is announced")
			checkAxe(t, ctx, axe, "summary after Copy")
		})
	}
}

// TestA11yManagePage runs axe-core (WCAG 2.1 A and AA) on the manage page,
// its delete confirmation and the page after the deletion, at 1280 and 390
// px; checks where focus goes after a confirmed Delete; and that nothing
// scrolls sideways on the phone (the Livebook's URL is one long word).
func TestA11yManagePage(t *testing.T) {
	axe := loadAxe(t)
	if axe == "" {
		return
	}
	l := startLauncher(t, "127.0.0.1:0", t.TempDir())
	for _, vp := range viewports {
		t.Run(fmt.Sprint(vp.width), func(t *testing.T) {
			ctx := browser.Tab(t)
			openPage(t, ctx, l.URL)
			// No dash in the name: its URL is one long word, with nowhere to wrap.
			launch(t, ctx, fmt.Sprintf("a11ylonglivebooknamewithnowheretowrap%d", vp.width))
			link := manageLink(t, ctx)

			tab := browser.Tab(t)
			require.NoError(t, chromedp.Do(tab, chromedp.EmulateViewport(vp.width, vp.height), chromedp.Navigate(link)))
			waitJS(t, tab, "the Livebook's state", `['running', 'stopped'].includes(document.querySelector('[data-test=manage-state]').textContent) && !document.querySelector('[data-test=delete]').disabled`)
			checkAxe(t, tab, axe, "manage")
			checkNoSideScroll(t, tab, "manage")

			click(t, tab, "delete")
			waitJS(t, tab, "the confirmation", shown("confirm-delete"))
			checkAxe(t, tab, axe, "delete confirmation")
			checkNoSideScroll(t, tab, "delete confirmation")

			click(t, tab, "confirm-delete")
			waitManageState(t, tab, "gone")
			checkFocused(t, tab, "a confirmed Delete")
			checkAxe(t, tab, axe, "deleted")
			checkNoSideScroll(t, tab, "deleted")
		})
	}
}
