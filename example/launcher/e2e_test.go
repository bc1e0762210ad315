package main

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestE2EHappyPath launches a Livebook, logs in to it with the password the
// summary shows, and finds nothing of the launcher left in sessionStorage.
func TestE2EHappyPath(t *testing.T) {
	ctx := browser.Tab(t)
	l := startLauncher(t, "127.0.0.1:0", t.TempDir())

	openPage(t, ctx, l.URL)
	launch(t, ctx, "happy-path")
	waitMidDeploy(t, ctx, 0)
	appURL, password := summary(t, ctx)
	assert.Equal(t, l.URL+"flysim/livebook/happy-path/", appURL)
	assert.Empty(t, storageDump(t, ctx), "the sealed state is cleared once the summary shows")

	loginLivebook(t, ctx, appURL, password)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(l.URL)))
	waitConnected(t, ctx)
	assert.Empty(t, storageDump(t, ctx), "nothing of the launcher is left in sessionStorage")
	l.mustNotContain(t, password)
}
