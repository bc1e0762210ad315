package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/seal"
)

// manageScreenshotPath is the README's screenshot of the manage page.
const manageScreenshotPath = "../../docs/manage.png"

// manageLink waits for the summary and returns its absolute manage link.
func manageLink(t *testing.T, ctx context.Context) string {
	t.Helper()
	waitJS(t, ctx, "the manage link", shown("manage-link"))
	return evalJS[string](t, ctx, `document.querySelector('[data-test=manage-link]').href`)
}

// waitManageState waits until the manage page shows state with no change
// under way (its actions usable again, or none left for gone).
func waitManageState(t *testing.T, ctx context.Context, state string) {
	t.Helper()
	waitJS(t, ctx, "the state "+state, fmt.Sprintf(`%s && document.querySelector('[data-test=manage-state]').textContent === %q &&
		(%q === 'gone' || !document.querySelector('[data-test=delete]').disabled)`, shown("manage-state"), state, state))
}

// manageState returns the state the manage page shows.
func pageManageState(t *testing.T, ctx context.Context) string {
	t.Helper()
	return evalJS[string](t, ctx, `document.querySelector('[data-test=manage-state]').textContent`)
}

// click clicks the data-test element name once it is enabled.
func click(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	waitJS(t, ctx, name+" enabled", fmt.Sprintf(`%s && !document.querySelector('[data-test=%q]').disabled`, shown(name), name))
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-test=%q]`, name)))))
}

// TestE2EManage launches a Livebook, opens the summary's manage link in a
// new tab, stops it, starts it and deletes it (with the confirmation):
// the stand-in URL then answers 404 and the simulator holds nothing of the
// launch.
func TestE2EManage(t *testing.T) {
	ctx := browser.Tab(t)
	dataDir := t.TempDir()
	l := startLauncher(t, "127.0.0.1:0", dataDir)
	openPage(t, ctx, l.URL)
	launch(t, ctx, "kept-livebook")
	appURL, password := summary(t, ctx)
	link := manageLink(t, ctx)
	require.True(t, strings.HasPrefix(link, l.URL+"manage#"), link)
	assert.NotContains(t, link, password)
	note := evalJS[string](t, ctx, `document.getElementById('summary-manage-note').textContent`)
	assert.Contains(t, note, "30 days")

	tab := browser.Tab(t) // a new tab, with its own storage
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(link)))
	waitJS(t, tab, "the Livebook's state", `['running', 'stopped'].includes(document.querySelector('[data-test=manage-state]').textContent) && !document.querySelector('[data-test=delete]').disabled`)
	if pageManageState(t, tab) == "stopped" { // Fly's proxy stopped it, idle (30 s at -sim-speed 10)
		click(t, tab, "start")
		waitManageState(t, tab, "running")
	}
	assert.Equal(t, "kept-livebook", evalJS[string](t, tab, `document.getElementById('manage-app').textContent`))
	assert.Empty(t, evalJS[map[string]string](t, tab, `Object.fromEntries(Object.entries(sessionStorage))`), "the link stays in memory")

	click(t, tab, "stop")
	waitManageState(t, tab, "stopped")
	assert.True(t, simMachineStopped(t, filepath.Join(dataDir, "flysim"), "kept-livebook"), "Fly agrees")
	click(t, tab, "start")
	waitManageState(t, tab, "running")
	if *updateScreenshot {
		require.NoError(t, chromedp.Do(tab, chromedp.EmulateViewport(960, 640)))
		png, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(manageScreenshotPath, png, 0o644))
		t.Logf("wrote %s", manageScreenshotPath)
	}

	click(t, tab, "delete")
	waitJS(t, tab, "the confirmation", shown("confirm-delete"))
	assert.Contains(t, evalJS[string](t, tab, `document.getElementById('confirm').textContent`), "cannot be undone")
	click(t, tab, "confirm-delete")
	waitManageState(t, tab, "gone")
	assert.False(t, evalJS[bool](t, tab, shown("stop")), "nothing left to act on")

	res, err := http.Get(appURL)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	assert.Equal(t, http.StatusNotFound, res.StatusCode, "the stand-in URL")
	_, exists := simApps(t, filepath.Join(dataDir, "flysim"))["kept-livebook"]
	assert.False(t, exists, "the app, and with it its machines, volume and addresses, is gone")
	assert.Zero(t, simVolumes(t, filepath.Join(dataDir, "flysim")), "no volume is left")
	l.mustNotContain(t, password)
	l.mustNotContain(t, strings.TrimPrefix(link, l.URL+"manage#"))
}

// TestE2EBadManageLinks opens tampered, expired and foreign manage links:
// each shows a clear message, offers no action, and changes nothing at
// the simulator.
func TestE2EBadManageLinks(t *testing.T) {
	ctx := browser.Tab(t)
	dataDir := t.TempDir()
	l := startLauncher(t, "127.0.0.1:0", dataDir)
	openPage(t, ctx, l.URL)
	launch(t, ctx, "guarded-livebook")
	summary(t, ctx)
	link := manageLink(t, ctx)
	tok := strings.TrimPrefix(link, l.URL+"manage#")

	sealer, err := seal.New([]byte(testKeyBase))
	require.NoError(t, err)
	var doc []byte
	require.NoError(t, sealer.Decrypt(manageKey, tok, &doc))
	old := time.Now().Add(-manageMaxAge - time.Hour)
	expired := sealFor(t, sealer, manageKey, jsonState(t, doc), seal.MaxAge(manageMaxAge), seal.SignedAt(old))
	otherKey, err := seal.New([]byte(strings.Repeat("another key base ", 4)))
	require.NoError(t, err)
	foreign := sealFor(t, otherKey, manageKey, jsonState(t, doc), seal.MaxAge(manageMaxAge))

	state := filepath.Join(dataDir, "flysim", "flysim.json")
	before, err := os.ReadFile(state)
	require.NoError(t, err)
	tests := []struct {
		name, token, message string
	}{
		{"tampered", tamperToken(tok), "not valid"},
		{"sealed by another server", foreign, "not valid"},
		{"expired", expired, "has expired"},
		{"cut short", tok[:len(tok)/2], "not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := browser.Tab(t)
			require.NoError(t, chromedp.Do(tab, chromedp.Navigate(l.URL+"manage#"+tt.token)))
			waitJS(t, tab, "the error", shown("error"))
			assert.Contains(t, evalJS[string](t, tab, `document.querySelector('[data-test=error]').textContent`), tt.message)
			assert.Contains(t, evalJS[string](t, tab, `document.querySelector('[data-test=error]').textContent`), "Nothing was changed")
			for _, name := range []string{"manage-state", "stop", "start", "delete"} {
				assert.False(t, evalJS[bool](t, tab, shown(name)), "%s is not offered", name)
			}
		})
	}
	after, err := os.ReadFile(state)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(before, after), "the simulator's state did not change")
	_, ok := simApps(t, filepath.Join(dataDir, "flysim"))["guarded-livebook"]
	assert.True(t, ok)
}

// TestE2EManageFlyUnreachable: while every Fly call fails, an action on
// the manage page is refused and the page keeps the state it last saw,
// with its actions, and says Fly cannot be reached (not that the Livebook
// is gone); once Fly answers, the server's own retry brings the state.
// The launcher runs in process, for its simulator's fault injection.
func TestE2EManageFlyUnreachable(t *testing.T) {
	s := newTestServer(t, 100, 0)
	_, done := launchToDone(t, s, "offline-livebook")
	tab := browser.Tab(t)
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(s.http.URL+"/manage#"+manageToken(t, done))))
	waitJS(t, tab, "the Livebook's state", `['running', 'stopped'].includes(document.querySelector('[data-test=manage-state]').textContent) && !document.querySelector('[data-test=delete]').disabled`)
	state := pageManageState(t, tab)
	action := map[string]string{"running": "stop", "stopped": "start"}[state]

	failFly(t, s)
	click(t, tab, action)
	waitJS(t, tab, "Fly unreachable", `document.getElementById('manage-message').textContent.includes('Fly.io cannot be reached right now') &&
		!document.querySelector('[data-test=delete]').disabled`)
	assert.Equal(t, state, pageManageState(t, tab), "the last state seen")
	assert.Contains(t, evalJS[string](t, tab, `document.getElementById('manage-message').textContent`), "Your Livebook was last seen "+state+".")
	for _, name := range []string{"manage-state", action, "delete", "manage-url"} {
		assert.True(t, evalJS[bool](t, tab, shown(name)), "%s is still shown", name)
	}
	assert.Contains(t, evalJS[string](t, tab, `document.querySelector('[data-test=error]').textContent`), "Nothing was changed")
	assert.NotContains(t, evalJS[string](t, tab, `document.body.textContent`), "502")

	s.fly.sim.ClearFaults()
	waitJS(t, tab, "the state read again", `!document.getElementById('manage-message').textContent.includes('cannot be reached') &&
		['running', 'stopped'].includes(document.querySelector('[data-test=manage-state]').textContent)`)
	assert.False(t, evalJS[bool](t, tab, shown("error")), "the refusal is cleared by the fresh state")
}
