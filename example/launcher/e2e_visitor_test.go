package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/superfly/fly-go/flaps"

	"github.com/sealkit/sealkit/flylaunch"
	"github.com/sealkit/sealkit/flylaunch/flysim"
)

// visitorSim is a standalone simulator (example/flysim -tenants) issuing
// the visitors' tokens, with its stdout (the base URL and the tokens it
// prints) and its stderr (the request log of -v) kept apart: the tokens
// belong on the first and must never show on the second.
type visitorSim struct {
	*proc             // its logs are its stdout
	stderr *logBuffer // the request log
	dir    string     // its data dir
	tokens map[string]string
}

// visitorOperatorToken is the simulator's operator token (-token beside
// -tenants): all access, for the test's own look at Fly.
const visitorOperatorToken = "visitor-e2e-operator"

// startVisitorSim runs example/flysim with -tenants (name=org pairs) and
// request logging, and reads the tenants' tokens from its stdout.
func startVisitorSim(t *testing.T, tenants map[string]string) *visitorSim {
	t.Helper()
	var list []string
	for name, org := range tenants {
		list = append(list, name+"="+org)
	}
	slices.Sort(list)
	s := &visitorSim{stderr: newLogBuffer(), dir: t.TempDir(), tokens: map[string]string{}}
	args := []string{"-addr", "127.0.0.1:0", "-data-dir", s.dir, "-speed", "20", "-v",
		"-tenants", strings.Join(list, ","), "-token", visitorOperatorToken}
	out := newLogBuffer()
	cmd := exec.Command(flysimBin(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	cmd.Stdout, cmd.Stderr = out, s.stderr
	dieWithTest(cmd)
	require.NoError(t, cmd.Start())
	s.proc = &proc{t: t, cmd: cmd, logs: out, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(s.proc.exited)
	}()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("flysim stderr:\n%s", s.stderr.String())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	s.URL, err = out.waitMatch(ctx, regexp.MustCompile(`^(http://\S+)\n`), 0)
	require.NoError(t, err, "flysim did not start; stderr:\n%s", s.stderr.String())
	for name := range tenants {
		s.tokens[name], err = out.waitMatch(ctx, regexp.MustCompile(`(?m)^token `+name+` (FlyV1 \S+)$`), 0)
		require.NoError(t, err, "flysim printed no token for %s", name)
	}
	return s
}

// operator is a client of the simulator with its operator token.
func (s *visitorSim) operator(t *testing.T) *flaps.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := flylaunch.NewClient(t.Context(), visitorOperatorToken, flysim.Transport(s.URL, tr))
	require.NoError(t, err)
	return c
}

// flyGate is a reverse proxy in front of the simulator, given to the
// launcher as -fly-api. While shut it holds every read of a machine (GET
// /v1/apps/{app}/machines/{id} and its /wait) until it opens or the
// launcher drops the request, and forwards everything else: a deploy then
// stops in wait_started, with its app, secrets, addresses, volume and
// machine created, for as long as the test needs, however fast or slow
// this machine runs. A held request never reaches the simulator.
type flyGate struct {
	proxy  *httputil.ReverseProxy
	opened chan struct{}
	once   sync.Once

	mu      sync.Mutex
	held    map[string]int // requests held so far, by app
	changed chan struct{}  // closed and replaced when held changes
}

var machineReadRE = regexp.MustCompile(`^/v1/apps/([^/]+)/machines/[^/]+(/wait)?$`)

// startFlyGate serves a shut gate to target on loopback and returns its URL.
func startFlyGate(t *testing.T, target string) (*flyGate, string) {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	tr := &http.Transport{}
	g := &flyGate{opened: make(chan struct{}), held: map[string]int{}, changed: make(chan struct{})}
	g.proxy = &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(u) },
		Transport: tr,
		// A request the launcher dropped (killed, say): nothing to say.
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) },
	}
	srv := httptest.NewServer(g)
	t.Cleanup(func() {
		g.open() // before Close, which waits for the held requests
		srv.Close()
		tr.CloseIdleConnections()
	})
	return g, srv.URL
}

func (g *flyGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m := machineReadRE.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodGet {
		select {
		case <-g.opened:
		default:
			g.mu.Lock()
			g.held[m[1]]++
			close(g.changed)
			g.changed = make(chan struct{})
			g.mu.Unlock()
			select {
			case <-g.opened:
			case <-r.Context().Done():
				return
			}
		}
	}
	g.proxy.ServeHTTP(w, r)
}

// open lets every held and later request through.
func (g *flyGate) open() { g.once.Do(func() { close(g.opened) }) }

// heldFor returns how many of app's machine reads were held so far.
func (g *flyGate) heldFor(app string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held[app]
}

// waitHeld waits until more than after of app's machine reads were held:
// a deploy of app is in wait_started.
func (g *flyGate) waitHeld(t *testing.T, app string, after int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
	defer cancel()
	for {
		g.mu.Lock()
		n, changed := g.held[app], g.changed
		g.mu.Unlock()
		if n > after {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("no deploy of %s reached wait_started (%d machine reads held)", app, n)
		}
	}
}

// visitorHeader carries a visitor's address to the launcher
// (-client-ip-header), as the proxy in front of a real launcher does: two
// visitors on one loopback address would share one launch budget.
const visitorHeader = "X-Visitor-Addr"

// visitorTab opens a browser tab (its own browser context: its own
// sessionStorage) whose requests come from addr.
func visitorTab(t *testing.T, addr string) context.Context {
	t.Helper()
	ctx := browser.Tab(t)
	_, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{visitorHeader: addr}})
	require.NoError(t, err)
	return ctx
}

// pasteToken pastes token over whatever the page's token field holds and
// leaves the field, as a visitor does: its change event asks for the
// token's orgs.
func pasteToken(t *testing.T, ctx context.Context, token string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Focus(chromedp.CSS("#token")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('token').select()`),
	))
	_, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: token})
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx, chromedp.Blur(chromedp.CSS("#token"))))
}

// orgOptions returns the values the org select offers.
func orgOptions(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return evalJS[[]string](t, ctx, `[...document.getElementById('org').options].map((o) => o.value)`)
}

// visitor is one visitor of TestE2EVisitorTokens.
type visitor struct {
	name, addr, org, app string
	token                string
	tab                  context.Context
	password, manage     string
}

// startVisitorLauncher runs the launcher in visitor mode against api, with
// no FLY_API_TOKEN, taking the client address from visitorHeader.
func startVisitorLauncher(t *testing.T, addr, dataDir, api string) *proc {
	t.Helper()
	l := startLauncher(t, addr, dataDir, "-visitor-tokens", "-fly-api", api, "-client-ip-header", visitorHeader)
	require.Contains(t, l.output(), "Fly API at ")
	return l
}

// TestE2EVisitorTokens: two visitors paste their own Fly tokens (issued by
// a standalone simulator) into two tabs and launch at once, each into an
// org its token reaches. Mid-deploy one tab reloads, then the launcher is
// killed with SIGKILL and started again on its address and data dir: both
// tabs resume (the new process takes each visitor's token from the tab's
// sealed blob) and reach the summary with a password, each app lands in
// its visitor's org, and each manage link stops, starts and deletes its
// Livebook. No visitor token shows in the launcher's data dir, in the
// output of either launcher process, or in the simulator's request log.
//
// "Mid-deploy" does not depend on timing: the launcher reaches the
// simulator through a flyGate that holds the deploys in wait_started until
// both tabs have resumed on the new process. Each visitor has an address
// of its own (visitorHeader), as two visitors do: from one address the
// second process's resumes and manage actions would exceed one client's
// launch budget. Against -fly-api the launcher keeps Fly's own propagation
// bound (30 s, whatever the simulator's -speed), which every deploy and
// delete waits out once: the test takes a couple of minutes.
func TestE2EVisitorTokens(t *testing.T) {
	sim := startVisitorSim(t, map[string]string{"alice": "acme", "bob": "globex"})
	gate, api := startFlyGate(t, sim.URL)
	dataDir := t.TempDir()
	l := startVisitorLauncher(t, "127.0.0.1:0", dataDir, api)
	visitors := []*visitor{
		{name: "alice", addr: "192.0.2.10", org: "acme", app: "alice-book"},
		{name: "bob", addr: "192.0.2.20", org: "globex", app: "bob-book"},
	}
	for _, v := range visitors {
		v.token = sim.tokens[v.name]
		v.tab = visitorTab(t, v.addr)
		openPage(t, v.tab, l.URL)
		pasteToken(t, v.tab, v.token)
		waitJS(t, v.tab, "the token's orgs", `!document.getElementById('org').disabled`)
		assert.Equal(t, []string{v.org}, orgOptions(t, v.tab), "%s's token reaches %s only", v.name, v.org)
		require.NoError(t, chromedp.Do(v.tab, chromedp.SetValue(chromedp.CSS("#org"), v.org)))
	}
	for _, v := range visitors { // both launches run at once
		launch(t, v.tab, v.app)
	}
	for _, v := range visitors {
		gate.waitHeld(t, v.app, 0)
		waitMidDeploy(t, v.tab, 0)
		blob := storageDump(t, v.tab)[resumeKey]
		require.NotEmpty(t, blob, "the tab holds its launch, sealed")
		assertNoToken(t, blob, v.token)
		assertTokenForgotten(t, v.tab, "while the deploy runs")
	}
	for _, v := range visitors { // each visitor is a client of its own
		waitLog(t, l, `"launch started" app=`+v.app+` .*client=`+regexp.QuoteMeta(v.addr)+` `)
	}

	// The reload re-attaches alice's tab to the deploy this process runs.
	alice := visitors[0]
	require.NoError(t, chromedp.Do(alice.tab, chromedp.Reload()))
	waitConnected(t, alice.tab)
	waitMidDeploy(t, alice.tab, 0)
	waitLog(t, l, `"launch re-attached" app=`+alice.app+` `)

	held := map[string]int{}
	for _, v := range visitors {
		held[v.app] = gate.heldFor(v.app)
	}
	l.kill()
	for _, v := range visitors {
		waitJS(t, v.tab, "the page to notice", `document.getElementById('status').dataset.status !== 'open'`)
	}
	l2 := startVisitorLauncher(t, l.addr(), dataDir, api)
	for _, v := range visitors {
		// The new process holds no deploy: it resumes each from the tab's
		// blob, with the visitor's token, and drives it to wait_started.
		gate.waitHeld(t, v.app, held[v.app])
		waitConnected(t, v.tab)
		waitMidDeploy(t, v.tab, 0)
		waitLog(t, l2, `"launch resumed" app=`+v.app+` `)
	}

	gate.open()
	op := sim.operator(t)
	for _, v := range visitors {
		_, v.password = summary(t, v.tab)
		v.manage = manageLink(t, v.tab)
		assert.Empty(t, storageDump(t, v.tab), "the sealed launch, token included, is cleared at the end")
		assertTokenForgotten(t, v.tab, "on the summary") // bob's tab never reloaded
		app, err := op.GetApp(t.Context(), v.app)
		require.NoError(t, err)
		assert.Equal(t, v.org, app.Organization.Slug, "%s lands in %s's org", v.app, v.name)
	}
	assert.Equal(t, map[string]int{"alice-book": 1, "bob-book": 1}, simApps(t, sim.dir),
		"one machine each: the reload and the restart resumed the deploys, they did not start others")

	for i, v := range visitors {
		t.Run("manage "+v.app, func(t *testing.T) {
			tab := visitorTab(t, v.addr) // a new tab, as the visitor opens the link later
			require.NoError(t, chromedp.Do(tab, chromedp.Navigate(v.manage)))
			waitJS(t, tab, "the Livebook's state", `['running', 'stopped'].includes(document.querySelector('[data-test=manage-state]').textContent) && !document.querySelector('[data-test=delete]').disabled`)
			if pageManageState(t, tab) == "stopped" { // Fly's proxy stopped it, idle
				click(t, tab, "start")
				waitManageState(t, tab, "running")
			}
			assert.Empty(t, storageDump(t, tab), "the link, and the token it carries, stays in memory")
			click(t, tab, "stop")
			waitManageState(t, tab, "stopped")
			click(t, tab, "start")
			waitManageState(t, tab, "running")
			click(t, tab, "delete")
			waitJS(t, tab, "the confirmation", shown("confirm-delete"))
			click(t, tab, "confirm-delete")
			waitManageState(t, tab, "gone")

			_, exists := simApps(t, sim.dir)[v.app]
			assert.False(t, exists, "the app is gone at Fly")
			waitAppGone(t, op, v.app)
			for _, other := range visitors[i+1:] {
				_, err := op.GetApp(t.Context(), other.app)
				assert.NoError(t, err, "%s is untouched", other.app)
			}
		})
	}

	// Every place the launchers and the simulator write to, once they have
	// stopped and flushed.
	l2.stop()
	sim.stop()
	var tokens []string
	for _, v := range visitors {
		tokens = append(tokens, v.token)
		l.mustNotContain(t, v.password)
		l2.mustNotContain(t, v.password)
	}
	assertNoTokenInDir(t, dataDir, tokens...)
	assertNoToken(t, l.output(), tokens...)
	assertNoToken(t, l2.output(), tokens...)
	require.Contains(t, sim.stderr.String(), "flysim request", "the simulator logged its requests")
	assertNoToken(t, sim.stderr.String(), tokens...)
}

// assertTokenForgotten checks that the page, once its launch was handed
// over, holds the visitor's token nowhere in its DOM: the token field is
// empty and the org select is back to asking for a token.
func assertTokenForgotten(t *testing.T, ctx context.Context, when string) {
	t.Helper()
	// A boolean, so that a failure does not print the token.
	assert.True(t, evalJS[bool](t, ctx, `document.getElementById('token').value === ''`), "the token field is emptied %s", when)
	assert.True(t, evalJS[bool](t, ctx, `document.getElementById('org').disabled`), "the org select is reset %s", when)
	assert.Equal(t, []string{""}, orgOptions(t, ctx), "the org select is reset %s", when)
}

// waitLog waits until the process has logged a line matching re.
func waitLog(t *testing.T, p *proc, re string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
	defer cancel()
	_, err := p.logs.waitMatch(ctx, regexp.MustCompile(re), 0)
	require.NoError(t, err, "no log line matching %s", re)
}

// waitAppGone waits until the simulator's API answers 404 for app (it may
// take Fly a while to agree with itself after a delete).
func waitAppGone(t *testing.T, op *flaps.Client, app string) {
	t.Helper()
	for try := 0; ; try++ {
		_, err := op.GetApp(t.Context(), app)
		var fe *flaps.FlapsError
		if errors.As(err, &fe) && fe.ResponseStatusCode == http.StatusNotFound {
			return
		}
		require.Less(t, try, 600, "the simulator still shows %s: %v", app, err)
		time.Sleep(50 * time.Millisecond)
	}
}

// assertNoTokenInDir fails for any file under dir holding one of tokens.
func assertNoTokenInDir(t *testing.T, dir string, tokens ...string) {
	t.Helper()
	files := 0
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, tok := range tokens {
			for _, part := range tokenTexts(tok) {
				assert.NotContains(t, string(b), part, "a visitor token leaked into %s", path)
			}
		}
		return nil
	}))
	t.Logf("searched %d files under the launcher's data dir", files)
}

// TestE2EVisitorTokenRefused: a tampered token, and a well-formed one the
// simulator never issued, typed into the token field in place of a good
// one get the page's clear sentence; the good token's orgs are gone, the
// org select and Launch are disabled, a launch forced past them is refused
// with the same sentence, and nothing is created.
func TestE2EVisitorTokenRefused(t *testing.T) {
	sim := startVisitorSim(t, map[string]string{"alice": "acme"})
	l := startVisitorLauncher(t, "127.0.0.1:0", t.TempDir(), sim.URL)
	alice := sim.tokens["alice"]
	other, err := flysim.New(flysim.Options{Tenants: []flysim.Tenant{{Name: "alice", Orgs: []string{"acme"}}}, Seed: 99, Profile: flysim.Instant()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = other.Close() })
	unknown, err := other.Token("alice") // a real-looking token of another issuer
	require.NoError(t, err)
	require.NotEqual(t, alice, unknown)

	tests := []struct{ name, token string }{
		{"tampered", alice[:len(alice)-8] + strings.Repeat("A", 8)},
		{"unknown", unknown},
		{"not a Fly token", "hello-this-is-not-a-token"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NotEqual(t, alice, tt.token)
			tab := visitorTab(t, fmt.Sprintf("192.0.2.%d", 100+i))
			openPage(t, tab, l.URL)
			pasteToken(t, tab, alice) // a good token first: its orgs are offered
			waitJS(t, tab, "the good token's orgs", `!document.getElementById('org').disabled`)
			require.Equal(t, []string{"acme"}, orgOptions(t, tab))
			waitJS(t, tab, "the Launch button", `!document.querySelector('[data-test=launch]').disabled`)

			pasteToken(t, tab, tt.token)
			waitJS(t, tab, "the error", shown("error"))
			want := sentence(errTokenRefused.Error())
			assert.Equal(t, want, evalJS[string](t, tab, `document.getElementById('error').textContent`))
			assert.Equal(t, "alert", evalJS[string](t, tab, `document.getElementById('error').getAttribute('role')`))
			assert.True(t, evalJS[bool](t, tab, `document.getElementById('org').disabled`), "no org offered")
			assert.Equal(t, []string{""}, orgOptions(t, tab), "the good token's orgs are gone")
			assert.True(t, evalJS[bool](t, tab, `document.querySelector('[data-test=launch]').disabled`), "Launch is disabled")

			// Forced past the disabled button, the launch is refused too.
			require.NoError(t, chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`document.getElementById('error').hidden = true;
				document.getElementById('launch-form').requestSubmit()`)))
			waitJS(t, tab, "the refusal", shown("error"))
			assert.Equal(t, want, evalJS[string](t, tab, `document.getElementById('error').textContent`))
			assert.False(t, evalJS[bool](t, tab, shown("progress")), "no launch under way")
			assert.Empty(t, storageDump(t, tab), "nothing sealed in the tab")
		})
	}
	l.stop()
	sim.stop() // it writes its state file as it stops
	assert.Empty(t, simApps(t, sim.dir), "nothing was created")
	assertNoToken(t, l.output(), alice, unknown)
	assertNoToken(t, sim.stderr.String(), alice, unknown)
}
