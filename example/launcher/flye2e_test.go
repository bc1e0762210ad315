package main

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flyMachineIDs are the machines the Fly end-to-end tests run.
var flyMachineIDs = []string{"148ed193b95089", "9080e6f3a12387"}

// flyApp is two launcher processes run as two machines of one Fly app, as
// deploy/fly.toml runs them (its command line, a machine's environment),
// on a standalone simulator they share, behind a flyProxy.
type flyApp struct {
	simDir   string
	simURL   string
	machines map[string]*proc
	proxy    *flyProxy
	url      string // the app's address, through the proxy
}

func startFlyApp(t *testing.T, noWebSocket bool) *flyApp {
	t.Helper()
	const token = "fly-e2e-token"
	app := &flyApp{simDir: t.TempDir(), machines: map[string]*proc{}}
	sim := startProcRE(t, flysimBin(t), regexp.MustCompile(`^(http://\S+)`),
		[]string{"-addr", "127.0.0.1:0", "-data-dir", app.simDir, "-speed", testSimSpeed, "-token", token}, nil)
	app.simURL = sim.URL
	ft := loadFlyToml(t)
	for _, id := range flyMachineIDs {
		app.machines[id] = startFlyMachine(t, ft, id, "127.0.0.1:0", sim.URL, token)
	}
	app.proxy = newFlyProxy(t, app.machines)
	app.proxy.noWebSocket = noWebSocket
	srv := httptest.NewServer(app.proxy)
	t.Cleanup(srv.Close)
	app.url = srv.URL
	return app
}

// startFlyMachine runs the launcher as machine id of the app ft describes
// (fly.toml's command line, a machine's environment) on addr, with the
// Fly API at api and token.
func startFlyMachine(t *testing.T, ft flyToml, id, addr, api, token string) *proc {
	t.Helper()
	args := append(flyArgs(t, ft), "-addr", addr, "-data-dir", t.TempDir(), "-fly-api", api)
	return startProc(t, bins.launcher, args, []string{
		"SECRET_KEY_BASE=" + testKeyBase, "FLY_API_TOKEN=" + token,
		"FLY_MACHINE_ID=" + id, "FLY_APP_NAME=" + ft.App, "FLY_REGION=ams",
	})
}

// TestE2EFlyReplayFallback runs the fallback transport (WebSocket refused)
// on two machines behind a round-robin proxy that honours fly-replay, with
// no stickiness: a launch with a reload, and the machine holding the
// page's stream killed mid-deploy, ends at a working password, with one
// app and one machine. The proxy alternates consecutive POSTs between the
// machines, so one of the page's first two (restored, then launch) reached
// the machine not holding its stream; before the kill no POST was
// answered 404: each such POST was replayed to the right one.
func TestE2EFlyReplayFallback(t *testing.T) {
	ctx := browser.Tab(t)
	app := startFlyApp(t, true)

	openPage(t, ctx, app.url)
	launch(t, ctx, "fly-replay")
	waitMidDeploy(t, ctx, 10)
	require.NoError(t, chromedp.Do(ctx, chromedp.Reload()))
	waitMidDeploy(t, ctx, 20)

	before := app.proxy.snapshot()
	require.NotEmpty(t, before.holder)
	for _, id := range flyMachineIDs {
		assert.Positive(t, before.direct[id], "the balancer sent the page's requests to machine %s too", id)
	}
	assert.Positive(t, before.replays, "POSTs that reached the other machine were replayed")
	assert.Zero(t, before.sendStatus[http.StatusNotFound], "no POST was lost to the wrong machine")
	assert.Equal(t, before.sendStatus[http.StatusNoContent], sum(before.sendStatus), "every POST was taken: %v", before.sendStatus)

	app.machines[before.holder].kill()
	appURL, password := summary(t, ctx)

	assert.Equal(t, map[string]int{"fly-replay": 1}, simApps(t, app.simDir), "one app, one machine")
	assert.Equal(t, app.simURL+"/livebook/fly-replay/", appURL)
	assert.Empty(t, storageDump(t, ctx))
	loginLivebook(t, ctx, appURL, password)
	for _, m := range app.machines {
		m.mustNotContain(t, password)
	}
}

// TestE2EFlyDrain deploys over a running launch: the machine holding the
// page's WebSocket gets SIGTERM (Fly's kill_signal) mid-deploy. It stops
// accepting connections, tells the page to reconnect, and exits cleanly
// within fly.toml's kill_timeout; the page reconnects through the proxy to
// the other machine, which finishes the same launch: one app, one
// machine, and the password logs in.
func TestE2EFlyDrain(t *testing.T) {
	ctx := browser.Tab(t)
	app := startFlyApp(t, false)
	killTimeout := loadFlyToml(t).KillTimeout.Duration

	openPage(t, ctx, app.url)
	launch(t, ctx, "fly-drain")
	waitMidDeploy(t, ctx, 20)
	holderID := app.proxy.snapshot().holder
	require.NotEmpty(t, holderID)
	holder := app.machines[holderID]

	require.NoError(t, holder.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-holder.exited:
	case <-time.After(killTimeout):
		require.FailNow(t, "the machine did not drain within fly.toml's kill_timeout", "%s; output:\n%s", killTimeout, holder.output())
	}
	assert.True(t, holder.cmd.ProcessState.Success(), "a clean exit, not a kill: %v", holder.cmd.ProcessState)
	assert.Contains(t, holder.output(), "shutting down")

	appURL, password := summary(t, ctx)
	after := app.proxy.snapshot()
	assert.NotEqual(t, holderID, after.holder, "the page reconnected to the other machine")
	assert.Equal(t, map[string]int{"fly-drain": 1}, simApps(t, app.simDir), "one app, one machine")
	assert.Empty(t, storageDump(t, ctx))
	loginLivebook(t, ctx, appURL, password)
}

func sum(m map[int]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
