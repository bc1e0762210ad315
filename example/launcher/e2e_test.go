package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/sealkit/sealkit/flylaunch"
	"github.com/sealkit/sealkit/seal"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// updateScreenshot makes TestE2EHappyPath write the README screenshot.
var updateScreenshot = flag.Bool("update-screenshot", false, "write "+screenshotPath+" from the happy-path test")

// screenshotPath is the README's screenshot of the launcher mid-deploy.
const screenshotPath = "../../docs/launcher.png"

// TestE2EHappyPath launches a Livebook, logs in to it with the password the
// summary shows, and finds nothing of the launcher left in sessionStorage.
func TestE2EHappyPath(t *testing.T) {
	ctx := browser.Tab(t)
	var extra []string
	if *updateScreenshot {
		extra = []string{"-sim-speed", "3"} // timings like a real launch, a bit faster
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}},
		})
		require.NoError(t, err)
		require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(960, 720)))
	}
	l := startLauncher(t, "127.0.0.1:0", t.TempDir(), extra...)

	openPage(t, ctx, l.URL)
	launch(t, ctx, "happy-path")
	waitMidDeploy(t, ctx, 0)
	if *updateScreenshot {
		waitMidDeploy(t, ctx, 50)
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(screenshotPath, png, 0o644))
		t.Logf("wrote %s", screenshotPath)
	}
	appURL, password := summary(t, ctx)
	assert.Equal(t, l.URL+"flysim/livebook/happy-path/", appURL)
	assert.Empty(t, storageDump(t, ctx), "the sealed state is cleared once the summary shows")

	loginLivebook(t, ctx, appURL, password)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(l.URL)))
	waitConnected(t, ctx)
	assert.Empty(t, storageDump(t, ctx), "nothing of the launcher is left in sessionStorage")
	l.mustNotContain(t, password)
}

// TestE2EReloadMidDeploy reloads the page twice while the deploy runs: the
// same deploy goes on (one app, one machine) and its password logs in.
func TestE2EReloadMidDeploy(t *testing.T) {
	ctx := browser.Tab(t)
	dataDir := t.TempDir()
	l := startLauncher(t, "127.0.0.1:0", dataDir)

	openPage(t, ctx, l.URL)
	launch(t, ctx, "reload-twice")
	waitMidDeploy(t, ctx, 10)
	require.NoError(t, chromedp.Do(ctx, chromedp.Reload()))
	waitMidDeploy(t, ctx, 20)
	require.NoError(t, chromedp.Do(ctx, chromedp.Reload()))
	appURL, password := summary(t, ctx)

	assert.Equal(t, map[string]int{"reload-twice": 1}, simApps(t, filepath.Join(dataDir, "flysim")),
		"one app with one machine: the reloads resumed the deploy, they did not start another")
	loginLivebook(t, ctx, appURL, password)
}

// TestE2EKillMidDeploy kills the launcher with SIGKILL mid-deploy and
// starts it again on the same address and data dir: the open page
// reconnects by itself and reaches the summary.
func TestE2EKillMidDeploy(t *testing.T) {
	ctx := browser.Tab(t)
	dataDir := t.TempDir()
	l := startLauncher(t, "127.0.0.1:0", dataDir)

	openPage(t, ctx, l.URL)
	launch(t, ctx, "kill-nine")
	waitMidDeploy(t, ctx, 20)
	l.kill()
	waitJS(t, ctx, "the page to notice", `document.getElementById('status').dataset.status !== 'open'`)
	startLauncher(t, l.addr(), dataDir)

	appURL, password := summary(t, ctx)
	assert.Equal(t, map[string]int{"kill-nine": 1}, simApps(t, filepath.Join(dataDir, "flysim")))
	loginLivebook(t, ctx, appURL, password)
}

// TestE2EBadBlobs puts a tampered and an expired sealed state in
// sessionStorage: the page says so clearly, the storage is cleared, and a
// new launch works.
func TestE2EBadBlobs(t *testing.T) {
	sealer, err := seal.New([]byte(testKeyBase))
	require.NoError(t, err)
	st := launchState{
		Record:   flylaunch.Record{LaunchID: strings.Repeat("ab", 16), App: "forged-app", Region: "iad"},
		Password: "not-a-real-password-0123",
		Size:     "small",
	}
	valid := sealBlob(t, sealer, st)
	mid := len(valid) / 2
	flipped := byte('A')
	if valid[mid] == 'A' {
		flipped = 'B'
	}
	tampered := valid[:mid] + string(flipped) + valid[mid+1:]
	expired := sealBlob(t, sealer, st, seal.SignedAt(time.Now().Add(-2*time.Hour)))

	l := startLauncher(t, "127.0.0.1:0", t.TempDir())
	tests := []struct {
		name, blob, message string
	}{
		{"tampered", tampered, "could not be read"},
		{"garbage", "XCP.garbage", "could not be read"},
		{"expired", expired, "has expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := browser.Tab(t)
			openPage(t, ctx, l.URL)
			require.NoError(t, chromedp.Do(ctx,
				chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`sessionStorage.setItem(%q, %q)`, resumeKey, tt.blob)),
				chromedp.Reload(),
			))
			waitJS(t, ctx, "the error", shown("error"))
			msg := evalJS[string](t, ctx, `document.querySelector('[data-test=error]').textContent`)
			assert.Contains(t, msg, tt.message)
			waitJS(t, ctx, "the storage to be cleared", `sessionStorage.length === 0`)

			launch(t, ctx, "after-"+tt.name)
			waitJS(t, ctx, "a new launch", shown("progress"))
			assert.False(t, evalJS[bool](t, ctx, shown("error")), "the error goes away with the new launch")
		})
	}
	assert.NotContains(t, l.output(), st.Password)
}
