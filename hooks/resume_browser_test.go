package hooks_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/resume"
	"github.com/sealkit/sealkit/seal"
)

// page is the test page (testdata/resume.html) open in a tab.
type page struct {
	t   *testing.T
	ctx context.Context
}

type result struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

type entry struct {
	Kind string         `json:"kind"`
	Seq  uint64         `json:"seq"`
	Data map[string]any `json:"data"`
}

func openPage(t *testing.T, s *site, query string) *page {
	t.Helper()
	p := &page{t: t, ctx: browser.Tab(t)}
	require.NoError(t, chromedp.Do(p.ctx, chromedp.Navigate(s.url(query))))
	p.wait(`window.pageReady === true`)
	return p
}

// js evaluates a JavaScript expression in the page and decodes its value.
func js[T any](p *page, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	require.NoError(p.t, err, "evaluating %s", expr)
	return v
}

// wait polls the expression until it is true, and fails with the page's
// state when it does not become true in time.
func (p *page) wait(expr string) {
	p.t.Helper()
	_, err := chromedp.Run(p.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		state, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](
			`JSON.stringify({results, log, statuses, errors, stored: sessionStorage.getItem("launch")})`))
		p.t.Fatalf("waiting for %s: %v\npage state: %s", expr, err, state)
	}
}

func (p *page) results() []result { p.t.Helper(); return js[[]result](p, `results`) }
func (p *page) log() []entry      { p.t.Helper(); return js[[]entry](p, `log`) }
func (p *page) id() string        { p.t.Helper(); return js[string](p, `pageId`) }

// stored returns the blob in sessionStorage, nil when there is none.
func (p *page) stored() *string {
	p.t.Helper()
	return js[*string](p, `sessionStorage.getItem("launch")`)
}

// action runs client.action and returns "ok" or the rejection message.
func (p *page) action(name string) string {
	p.t.Helper()
	return js[string](p, `client.action("`+name+`", {}).then(() => "ok", (e) => "error: " + e.message)`)
}

func (p *page) reload() {
	p.t.Helper()
	require.NoError(p.t, chromedp.Do(p.ctx, chromedp.Reload()))
	p.wait(`window.pageReady === true`)
}

// launch starts a job from the page and waits for its first snapshot.
func (p *page) launch(s *site) *fakeJob {
	p.t.Helper()
	p.wait(`results.length >= 1`)
	n := len(p.log())
	require.Equal(p.t, "ok", p.action("launch"))
	p.wait(`log.length > ` + itoa(n))
	blob := p.stored()
	require.NotNil(p.t, blob)
	require.True(p.t, strings.HasPrefix(*blob, "XCP."), "a sealed token is stored")
	j := s.be.job(p.log()[n].Data["job"].(string))
	require.NotNil(p.t, j)
	return j
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func snapshot(seq uint64, job string) entry {
	return entry{Kind: "snapshot", Seq: seq, Data: map[string]any{"job": job, "seq": float64(seq)}}
}

func event(n uint64) entry {
	return entry{Kind: "event", Seq: n, Data: map[string]any{"n": float64(n)}}
}

// lastOpened is the Result the running server instance last gave its App.
func lastOpened(t *testing.T, s *site) resume.Result[jobState] {
	t.Helper()
	rs := s.app().results()
	require.NotEmpty(t, rs)
	return rs[len(rs)-1]
}

// transports are the ways the page reaches the server; tests a–d run over
// each of them.
var transports = []struct {
	name  string
	query string // page query: the client's transports
	// noWebSocket: a proxy in front of the server refuses WebSocket.
	noWebSocket bool
	// check the requests each way saw.
	check func(t *testing.T, wsUpgrades, streams int64)
}{
	{
		name: "websocket",
		check: func(t *testing.T, ws, sse int64) {
			assert.Positive(t, ws)
			assert.Zero(t, sse, "no fallback while WebSocket works")
		},
	},
	{
		name:  "sse-forced",
		query: "transports=sse",
		check: func(t *testing.T, ws, sse int64) {
			assert.Zero(t, ws, "WebSocket never tried")
			assert.Positive(t, sse)
		},
	},
	{
		name:        "websocket-unavailable",
		noWebSocket: true,
		check: func(t *testing.T, ws, sse int64) {
			assert.Positive(t, ws, "WebSocket tried first")
			assert.Positive(t, sse, "then the fallback")
		},
	},
}

func TestConnectResume(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			run := func(name string, setup func(*testApp), f func(t *testing.T, s *site)) {
				t.Run(name, func(t *testing.T) {
					s := newSite(t, resume.Options{}, setup)
					s.noWebSocket.Store(tr.noWebSocket)
					f(t, s)
					tr.check(t, s.wsUpgrades.Load(), s.streams.Load())
				})
			}
			run("a reload resumes the job", nil, func(t *testing.T, s *site) { testReload(t, s, tr.query) })
			run("b server restart resumes without reload", nil, func(t *testing.T, s *site) { testRestart(t, s, tr.query) })
			run("c tampered blob", nil, func(t *testing.T, s *site) { testTampered(t, s, tr.query) })
			run("c garbage blob", nil, func(t *testing.T, s *site) { testGarbage(t, s, tr.query) })
			run("c expired blob", nil, func(t *testing.T, s *site) { testExpired(t, s, tr.query) })
			run("d clear at the end", nil, func(t *testing.T, s *site) { testClear(t, s, tr.query) })
		})
	}
}

// a. store → reload → the same state comes back; events go on where they were.
func testReload(t *testing.T, s *site, query string) {
	p := openPage(t, s, query)
	p.wait(`results.length === 1`)
	assert.Equal(t, "fresh", p.results()[0].Status)
	j := p.launch(s)
	j.emit()
	j.emit()
	p.wait(`log.length === 3`)
	assert.Equal(t, []entry{snapshot(0, j.id), event(1), event(2)}, p.log())
	blob := p.stored()

	before := p.id()
	p.reload()
	require.NotEqual(t, before, p.id(), "the page reloaded")
	p.wait(`results.length === 1 && log.length === 1`)
	assert.Equal(t, "resumed", p.results()[0].Status)
	assert.Equal(t, blob, p.stored(), "the blob survives the reload")
	j.emit()
	p.wait(`log.length === 2`)
	assert.Equal(t, []entry{snapshot(2, j.id), event(3)}, p.log())

	r := lastOpened(t, s)
	assert.Equal(t, resume.StatusResumed, r.Status)
	assert.Equal(t, j.state(), r.State, "the server got its sealed state back")
	assert.Equal(t, 1, s.be.startCount())
}

// b. the server dies and a new instance starts on the same port: the open
// page reconnects by itself and resumes, without a reload.
func testRestart(t *testing.T, s *site, query string) {
	p := openPage(t, s, query)
	j := p.launch(s)
	j.emit()
	p.wait(`log.length === 2`)
	before := p.id()
	wsBefore := s.wsUpgrades.Load()
	sseForced := strings.Contains(query, "transports=sse")
	fellBack := !sseForced && s.streams.Load() > 0

	s.restart()
	j.emit() // while the page is away: it comes back in the snapshot
	p.wait(`results.length === 2 && log.length === 3`)
	assert.Equal(t, before, p.id(), "no reload")
	assert.Equal(t, []result{{"fresh", ""}, {"resumed", ""}}, statuses(p.results()))
	assert.Equal(t, []entry{snapshot(0, j.id), event(1), snapshot(2, j.id)}, p.log())
	j.emit()
	p.wait(`log.length === 4`)
	assert.Equal(t, event(3), p.log()[3])
	assert.Contains(t, js[[]string](p, `statuses`), "retrying")

	r := lastOpened(t, s)
	assert.Equal(t, resume.StatusResumed, r.Status, "the new instance opened the blob")
	assert.Equal(t, j.state(), r.State)
	assert.Equal(t, 1, s.be.startCount(), "the job was not started again")
	if fellBack {
		assert.Equal(t, wsBefore, s.wsUpgrades.Load(), "the page remembered that WebSocket does not work here")
	}
}

func statuses(rs []result) []result {
	out := make([]result, len(rs))
	for i, r := range rs {
		out[i] = result{Status: r.Status}
	}
	return out
}

// badBlob checks what follows a blob the server refuses: a typed result, the
// blob cleared, and a fresh start on the same connection.
func badBlob(t *testing.T, s *site, p *page, want string, wantErr error) {
	t.Helper()
	p.wait(`results.length === 1`)
	assert.Equal(t, want, p.results()[0].Status)
	p.wait(`sessionStorage.getItem("launch") === null`)
	r := lastOpened(t, s)
	assert.Equal(t, resume.Status(want), r.Status)
	assert.ErrorIs(t, r.Err, wantErr)
	assert.Zero(t, r.State)

	// The page starts over on the same connection.
	n := s.be.startCount()
	j := p.launch(s)
	assert.Equal(t, n+1, s.be.startCount())
	assert.Equal(t, snapshot(0, j.id), p.log()[len(p.log())-1])
}

// c. a tampered blob.
func testTampered(t *testing.T, s *site, query string) {
	p := openPage(t, s, query)
	p.launch(s)
	// Flip one character in the middle of the sealed token.
	js[any](p, `(() => { const b = sessionStorage.getItem("launch"), i = b.length >> 1;
		sessionStorage.setItem("launch", b.slice(0, i) + (b[i] === "A" ? "B" : "A") + b.slice(i + 1)); })()`)
	p.reload()
	badBlob(t, s, p, "invalid", seal.ErrInvalid)
}

// c. garbage where the blob should be.
func testGarbage(t *testing.T, s *site, query string) {
	p := openPage(t, s, joinQuery(query, "autostart=0"))
	js[any](p, `sessionStorage.setItem("launch", "not a token"); start()`)
	badBlob(t, s, p, "invalid", seal.ErrInvalid)
}

// c. an expired blob: the App seals it as signed two hours ago, past the
// handler's default max age of one hour.
func testExpired(t *testing.T, s *site, query string) {
	p := openPage(t, s, query)
	p.launch(s)
	s.advance(2 * time.Hour) // past the default max age of an hour
	p.reload()
	badBlob(t, s, p, "expired", seal.ErrExpired)
}

// d. clear at the end leaves sessionStorage without the key.
func testClear(t *testing.T, s *site, query string) {
	p := openPage(t, s, query)
	p.launch(s)
	require.Equal(t, "ok", p.action("finish"))
	assert.False(t, js[bool](p, `Object.keys(sessionStorage).includes("launch")`))
	p.reload()
	p.wait(`results.length === 1`)
	assert.Equal(t, "fresh", p.results()[0].Status)
	assert.Equal(t, resume.StatusFresh, lastOpened(t, s).Status)
}

func joinQuery(a, b string) string {
	if a == "" {
		return b
	}
	return a + "&" + b
}

// e. a duplicated tab (its sessionStorage copied, as the browser does when
// it duplicates a tab) resumes the same job; the job is not started twice.
func TestDuplicatedTab(t *testing.T) {
	s := newSite(t, resume.Options{}, nil)
	first := openPage(t, s, "")
	j := first.launch(s)
	j.emit()
	first.wait(`log.length === 2`)

	second := openPage(t, s, "autostart=0")
	entries := js[string](first, `JSON.stringify(Object.entries(sessionStorage))`)
	js[any](second, `for (const [k, v] of JSON.parse(`+itoaString(entries)+`)) sessionStorage.setItem(k, v); start()`)
	second.wait(`results.length === 1 && log.length === 1`)
	assert.Equal(t, "resumed", second.results()[0].Status)
	assert.Equal(t, []entry{snapshot(1, j.id)}, second.log())
	assert.Equal(t, 1, s.be.startCount(), "the job was not started twice")

	j.emit()
	first.wait(`log.length === 3`)
	second.wait(`log.length === 2`)
	assert.Equal(t, event(2), first.log()[2])
	assert.Equal(t, event(2), second.log()[1])
}

// itoaString quotes s as a JavaScript string literal.
func itoaString(s string) string { b, _ := json.Marshal(s); return string(b) }
