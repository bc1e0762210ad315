package hooks_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/internal/browsertest"
)

// resumeMarkup is the seed's single hook element: no data-key, every key.
const resumeMarkup = `<div id="resume" phx-hook="Resume"></div>`

// lvTab is the LiveView page open in a tab, with its console recorded.
type lvTab struct {
	t       *testing.T
	ctx     context.Context
	console *browsertest.Console
}

func openLiveView(t *testing.T, s *lvSite) *lvTab {
	t.Helper()
	ctx := browser.Tab(t)
	p := &lvTab{t: t, ctx: ctx, console: browsertest.RecordConsole(t, ctx)}
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(s.url())))
	return p
}

// stored returns the page's sessionStorage item key, nil when there is none.
func (p *lvTab) stored(key string) *string {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[*string](`sessionStorage.getItem(`+itoaString(key)+`)`))
	require.NoError(p.t, err)
	return v
}

func (p *lvTab) eval(expr string) {
	p.t.Helper()
	_, err := chromedp.Run(p.ctx, chromedp.Evaluate[chromedp.Void](expr+`; undefined`))
	require.NoError(p.t, err, "evaluating %s", expr)
}

func (p *lvTab) wait(expr string) {
	p.t.Helper()
	_, err := chromedp.Run(p.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second)))
	require.NoError(p.t, err, "waiting for %s", expr)
}

func (p *lvTab) reload() {
	p.t.Helper()
	require.NoError(p.t, chromedp.Do(p.ctx, chromedp.Reload()))
}

// noUncaught checks that nothing reached the console as an uncaught error
// (exception or unhandled promise rejection) so far.
func (p *lvTab) noUncaught(why string) {
	p.t.Helper()
	require.NoError(p.t, p.console.Sync(p.ctx))
	var texts []string
	for _, m := range p.console.Exceptions() {
		texts = append(texts, m.Text)
	}
	assert.Empty(p.t, texts, "uncaught errors in the console: %s", why)
}

// oneAnswer checks that exactly one restore answer for key arrived among
// events, and returns its data.
func oneAnswer(t *testing.T, events []hookEvent, key, why string) *string {
	t.Helper()
	got := answers(t, events, key)
	assert.Equal(t, 1, len(got), "restore answers for %q: %s%s", key, why, eventsString(got))
	if len(got) == 0 {
		return nil
	}
	_, data := got[0].answer(t)
	return data
}

func store(key string, data any) map[string]any { return map[string]any{"key": key, "data": data} }

// TestResumeHookLiveView drives ResumeHook under the real LiveView client:
// npm phoenix and phoenix_live_view, bundled with esbuild as a Phoenix 1.8
// app bundles them, in Chromium, against a Go stand-in of the LiveView
// channel. Every mount of the stand-in is fresh, as LiveView's is.
func TestResumeHookLiveView(t *testing.T) {
	app := buildLiveViewApp(t)

	t.Run("first mount, store, reload, clear", func(t *testing.T) {
		s := newLVSite(t, app, lvConfig{markup: resumeMarkup, mountEvents: []lvEvent{restoreEvent("launch")}})
		p := openLiveView(t, s)
		s.waitAnswer(0, "launch")
		s.roundTrip()
		assert.Nil(t, oneAnswer(t, s.events(), "launch", "the first mount's restore"), "nothing stored yet")

		s.push("store", store("launch", "XCP.one"))
		s.roundTrip()
		assert.Equal(t, str("XCP.one"), p.stored("launch"))

		n := len(s.events())
		p.reload()
		s.waitAnswer(n, "launch")
		s.roundTrip()
		assert.Equal(t, str("XCP.one"), oneAnswer(t, s.events()[n:], "launch", "the mount after the reload"))
		assert.Equal(t, 2, s.events()[len(s.events())-1].Mount)

		s.push("clear", map[string]any{"key": "launch"})
		s.roundTrip()
		assert.Nil(t, p.stored("launch"))
		p.noUncaught("mount, store, reload")
	})

	// Rule 1: LiveView mounts afresh on every rejoin. A mount that pushes
	// "restore" gets one answer, not that answer and a second from
	// reconnected().
	t.Run("server restart, the mount pushes restore: one answer", func(t *testing.T) {
		s := newLVSite(t, app, lvConfig{markup: resumeMarkup, mountEvents: []lvEvent{restoreEvent("launch")}})
		p := openLiveView(t, s)
		s.waitAnswer(0, "launch")
		s.push("store", store("launch", "XCP.two"))
		s.roundTrip()

		n := len(s.events())
		s.restart()
		s.waitAnswer(n, "launch")
		s.roundTrip()
		assert.Equal(t, str("XCP.two"), oneAnswer(t, s.events()[n:], "launch",
			"rule 1: the rejoin's mount asked, so reconnected() must not answer again"))
		p.noUncaught("restart")
	})

	// Rule 1, other half: a server that asks only once, not on mount, still
	// gets the answer again after a reconnect, once.
	t.Run("server restart, the mount does not push restore: one re-send", func(t *testing.T) {
		s := newLVSite(t, app, lvConfig{markup: resumeMarkup})
		p := openLiveView(t, s)
		s.waitJoins(1)
		s.push("restore", map[string]any{"key": "launch"})
		s.waitAnswer(0, "launch")
		s.push("store", store("launch", "XCP.three"))
		s.roundTrip()

		n := len(s.events())
		s.restart()
		s.waitJoins(2)
		s.waitAnswer(n, "launch")
		s.roundTrip()
		assert.Equal(t, str("XCP.three"), oneAnswer(t, s.events()[n:], "launch",
			"reconnected() answers the last restore again, with the current blob"))
		p.noUncaught("restart")
	})

	// Rule 2: handleEvent listens on window, so every hook instance sees
	// every event; an element with data-key handles its own key only.
	t.Run("two elements with different data-key", func(t *testing.T) {
		s := newLVSite(t, app, lvConfig{
			markup:      `<div id="resume-a" phx-hook="Resume" data-key="a"></div><div id="resume-b" phx-hook="Resume" data-key="b"></div>`,
			mountEvents: []lvEvent{restoreEvent("a"), restoreEvent("b")},
		})
		p := openLiveView(t, s)
		s.waitAnswer(0, "a")
		s.waitAnswer(0, "b")
		s.roundTrip()
		assert.Nil(t, oneAnswer(t, s.events(), "a", "rule 2: only the element with data-key=a answers"))
		assert.Nil(t, oneAnswer(t, s.events(), "b", "rule 2: only the element with data-key=b answers"))

		s.push("store", store("a", "XCP.a"))
		s.push("store", store("b", "XCP.b"))
		s.push("restore", map[string]any{"key": "c"}) // no element has key c
		s.roundTrip()
		assert.Equal(t, str("XCP.a"), p.stored("a"))
		assert.Equal(t, str("XCP.b"), p.stored("b"))
		assert.Empty(t, answers(t, s.events(), "c"), "no element handles key c")

		n := len(s.events())
		p.reload()
		s.waitAnswer(n, "a")
		s.waitAnswer(n, "b")
		s.roundTrip()
		assert.Equal(t, str("XCP.a"), oneAnswer(t, s.events()[n:], "a", "rule 2 after a reload"))
		assert.Equal(t, str("XCP.b"), oneAnswer(t, s.events()[n:], "b", "rule 2 after a reload"))
		p.noUncaught("two elements")
	})

	// Rule 3: pushEvent returns a promise in LiveView 1.x that rejects on an
	// error reply and while disconnected; nothing may reach the console.
	t.Run("error reply and a push while disconnected: no uncaught error", func(t *testing.T) {
		s := newLVSite(t, app, lvConfig{
			markup:      resumeMarkup,
			mountEvents: []lvEvent{restoreEvent("launch")},
			errorReply:  func(event string) bool { return event == "restore" },
		})
		p := openLiveView(t, s)
		s.waitAnswer(0, "launch")
		s.roundTrip()
		p.noUncaught("rule 3: the server answered the restore with an error reply")

		s.kill()
		p.wait(`!liveSocket.isConnected()`)
		// A restore the page itself dispatches, as JS.dispatch would: the
		// hook answers it while the channel is down.
		p.eval(`window.dispatchEvent(new CustomEvent("phx:restore", {detail: {key: "launch"}}))`)
		p.noUncaught("rule 3: a push while disconnected")

		n := len(s.events())
		s.start()
		s.waitAnswer(n, "launch")
		s.roundTrip()
		oneAnswer(t, s.events()[n:], "launch", "rule 1: a restore arrived while down, so reconnected() must not answer again")
		p.noUncaught("rule 3: after the rejoin")
	})

	// Rule 4: a store whose data is not a string clears the key; it does not
	// store "null" or "undefined" to hand back later.
	t.Run("store with null or missing data clears", func(t *testing.T) {
		s := newLVSite(t, app, lvConfig{markup: resumeMarkup, mountEvents: []lvEvent{restoreEvent("launch")}})
		p := openLiveView(t, s)
		s.waitAnswer(0, "launch")
		s.push("store", store("launch", "XCP.x"))
		s.roundTrip()
		require.Equal(t, str("XCP.x"), p.stored("launch"))

		s.push("store", store("launch", nil))
		s.roundTrip()
		assert.Nil(t, p.stored("launch"), "rule 4: data null clears the key")

		s.push("store", store("launch", "XCP.y"))
		s.push("store", map[string]any{"key": "launch"})
		s.roundTrip()
		assert.Nil(t, p.stored("launch"), "rule 4: missing data clears the key")

		n := len(s.events())
		p.reload()
		s.waitAnswer(n, "launch")
		s.roundTrip()
		assert.Nil(t, oneAnswer(t, s.events()[n:], "launch", "the mount after the reload"), "rule 4: a later restore answers null")
		p.noUncaught("store with null data")
	})
}
