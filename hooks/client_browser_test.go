package hooks_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/resume"
)

// TestConnectResumeOptions: bad options throw a TypeError at once.
func TestConnectResumeOptions(t *testing.T) {
	s := newSite(t, resume.Options{}, nil)
	p := openPage(t, s, "autostart=0")
	tests := []struct{ name, options string }{
		{"no key", `{}`},
		{"empty key", `{key: ""}`},
		{"key not a string", `{key: 42}`},
		{"empty transports", `{key: "k", transports: []}`},
		{"unknown transport", `{key: "k", transports: ["websocket", "longpoll"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := js[string](p, `import("/hooks/sealkit-resume.js").then((m) => {
				try { m.connectResume(`+tt.options+`); return "no error"; } catch (e) { return e.constructor.name + ": " + e.message; }
			})`)
			assert.Regexp(t, `^TypeError: connectResume: bad options\.(key|transports)$`, got)
		})
	}
	assert.Zero(t, s.wsUpgrades.Load()+s.streams.Load(), "nothing connected")
}

// TestConnectResumeActions: replies resolve or reject the action's promise.
func TestConnectResumeActions(t *testing.T) {
	s := newSite(t, resume.Options{}, nil)
	p := openPage(t, s, "")
	assert.Equal(t, `error: unknown action "nope"`, p.action("nope"))
	assert.Equal(t, "ok", p.action("finish"))
	// Queued before the connection is ready, sent once it is.
	p.reload()
	assert.Equal(t, "ok", p.action("finish"))
}

// TestConnectResumeClose: close is final: status "closed", pending and later
// actions reject, and a server restart brings no reconnect.
func TestConnectResumeClose(t *testing.T) {
	s := newSite(t, resume.Options{}, nil)
	p := openPage(t, s, "")
	p.wait(`results.length === 1`)
	got := js[string](p, `(() => { const a = client.action("finish", {}); client.close();
		return a.then(() => "resolved", (e) => e.message); })()`)
	assert.Equal(t, "sealkit: client closed", got)
	assert.Equal(t, "error: sealkit: client closed", p.action("finish"))
	assert.Equal(t, "closed", js[string](p, `client.status`))
	statuses := js[[]string](p, `statuses`)
	assert.Equal(t, "closed", statuses[len(statuses)-1])

	s.restart()
	upgrades := s.wsUpgrades.Load()
	// A fresh client on the same page connects to the new instance; the
	// closed one stays closed, so exactly one more connection arrives.
	js[any](p, `start()`)
	p.wait(`results.length === 2`)
	assert.Equal(t, upgrades+1, s.wsUpgrades.Load())
	assert.Len(t, s.app().results(), 1, "the closed client did not reconnect")
}

// TestConnectResumePausesWhileAway: hidden or offline pages do not connect;
// becoming visible or online connects at once.
func TestConnectResumePausesWhileAway(t *testing.T) {
	tests := []struct {
		name, away, back string
	}{
		{"hidden", `Object.defineProperty(document, "hidden", {configurable: true, get: () => window.away})`,
			`document.dispatchEvent(new Event("visibilitychange"))`},
		{"offline", `Object.defineProperty(navigator, "onLine", {configurable: true, get: () => !window.away})`,
			`dispatchEvent(new Event("online"))`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t, resume.Options{}, nil)
			p := openPage(t, s, "autostart=0")
			js[any](p, `window.away = true; `+tt.away+`; start()`)
			// The client is idle: no status, no request. A round trip to the
			// server orders this check after anything the page could have sent.
			require.Equal(t, 200, js[int](p, `fetch("/").then((r) => r.status)`))
			assert.Empty(t, js[[]string](p, `statuses`))
			assert.Zero(t, s.wsUpgrades.Load()+s.streams.Load())
			assert.Equal(t, "", js[string](p, `client.status`))

			js[any](p, `window.away = false; `+tt.back)
			p.wait(`results.length === 1`)
			assert.Equal(t, []string{"connecting", "open"}, js[[]string](p, `statuses`))
		})
	}
}

// TestConnectResumeBackoff: reconnect delays grow exponentially from baseMs
// (20 on the test page), are capped at maxMs (250), and are scaled by
// Math.random (full jitter). The page records the delays the client asks
// setTimeout for its reconnects, and fires those timers at once.
func TestConnectResumeBackoff(t *testing.T) {
	tests := []struct {
		random float64
		want   []float64
	}{
		{1, []float64{20, 40, 80, 160, 250, 250, 250}},
		{0.5, []float64{10, 20, 40, 80, 125, 125, 125}},
		{0, []float64{0, 0, 0, 0, 0, 0, 0}},
	}
	s := newSite(t, resume.Options{}, nil)
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.random), func(t *testing.T) {
			// Nothing serves /nowhere: WebSocket and SSE both fail, every time.
			p := openPage(t, s, "autostart=0&url=/nowhere")
			js[any](p, `window.delays = []; Math.random = () => `+fmt.Sprint(tt.random)+`;
				const later = setTimeout; window.setTimeout = (f, ms, ...a) => f.name === "connect" ? (delays.push(ms), later(f, 0)) : later(f, ms, ...a);
				start()`)
			p.wait(`delays.length >= 7`)
			js[any](p, `client.close()`)
			assert.Equal(t, tt.want, js[[]float64](p, `delays.slice(0, 7)`))
			assert.Empty(t, js[[]result](p, `results`))
			assert.NotContains(t, js[[]string](p, `statuses`), "open")
		})
	}
	assert.Zero(t, s.wsUpgrades.Load()+s.streams.Load())
}

// TestConnectResumeRefusesOtherKey: options.key is the only storage key the
// client reads or writes. A server that names another key (a misconfigured
// one, or one fishing for another blob) gets nothing: the client reports
// wrong_key and closes for good, since a retry cannot help.
func TestConnectResumeRefusesOtherKey(t *testing.T) {
	s := newSite(t, resume.Options{}, nil) // the server's key is "launch"
	p := openPage(t, s, "autostart=0&key=other")
	js[any](p, `sessionStorage.setItem("launch", "XCP.not-yours"); sessionStorage.setItem("other", "XCP.mine"); start()`)
	p.wait(`errors.length === 1 && client.status === "closed"`)
	assert.Equal(t, "wrong_key", js[string](p, `errors[0].code`))
	assert.Equal(t, []string{"connecting", "open", "closed"}, js[[]string](p, `statuses`))
	assert.Equal(t, "XCP.not-yours", *p.stored(), "the other key's blob is untouched")
	assert.Empty(t, s.app().results(), "the server got no blob")
	assert.Empty(t, js[[]result](p, `results`))
}
