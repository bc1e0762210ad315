package main

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oneLine is a JavaScript expression: the text of the element matching
// selector lays out on a single line (its text makes one line box).
func oneLine(selector string) string {
	return `(() => {
		const r = document.createRange();
		r.selectNodeContents(document.querySelector(` + "`" + selector + "`" + `));
		const tops = new Set([...r.getClientRects()].map((b) => Math.round(b.top)));
		return tops.size === 1;
	})()`
}

// TestE2ENarrowScreen lays the page out on a phone-sized screen (390 px):
// the header's title and mode pill stay on one line each, side by side,
// and the summary's password is never broken across lines (a password
// that wraps is copied wrong).
func TestE2ENarrowScreen(t *testing.T) {
	ctx := browser.Tab(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)))
	l := startLauncher(t, "127.0.0.1:0", t.TempDir(), "-sim-speed", "200")
	openPage(t, ctx, l.URL)

	assert.True(t, evalJS[bool](t, ctx, oneLine("header.top strong")), "the title wraps")
	assert.True(t, evalJS[bool](t, ctx, oneLine("header.top .mode")), "the mode pill wraps")
	assert.True(t, evalJS[bool](t, ctx, `(() => {
		const a = document.querySelector('header.top strong').getBoundingClientRect();
		const b = document.querySelector('header.top .mode').getBoundingClientRect();
		return Math.abs((a.top + a.bottom) / 2 - (b.top + b.bottom) / 2) < 8;
	})()`), "title and pill share the header's line")
	assert.False(t, evalJS[bool](t, ctx, `document.documentElement.scrollWidth > window.innerWidth`), "nothing is wider than the screen")

	launch(t, ctx, "narrow-screen")
	summary(t, ctx)
	assert.True(t, evalJS[bool](t, ctx, oneLine("[data-test=password]")), "the password breaks across lines")
	assert.False(t, evalJS[bool](t, ctx, `document.documentElement.scrollWidth > window.innerWidth`), "nothing is wider than the screen")
}
