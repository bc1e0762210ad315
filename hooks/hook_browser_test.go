package hooks_test

import (
	"context"
	_ "embed"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/hooks"
)

//go:embed testdata/harness.html
var harnessPage string

// hookServer serves the module under /hooks/ and the harness page at /.
func hookServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/hooks/", http.StripPrefix("/hooks", hooks.New()))
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(harnessPage))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// openHarness loads the harness page in a new tab and waits for the module.
func openHarness(t *testing.T) context.Context {
	t.Helper()
	srv := hookServer(t)
	ctx := browser.Tab(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")))
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.harnessReady === true`))
	require.NoError(t, err)
	return ctx
}

// eval runs a JavaScript async function body in the page and decodes its
// result.
func eval[T any](t *testing.T, ctx context.Context, body string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](`(async () => {`+body+`})()`, chromedp.EvalAwaitPromise))
	require.NoError(t, err, "evaluating: %s", body)
	return v
}

type pushed struct {
	Event   string `json:"event"`
	Payload struct {
		Key  string  `json:"key"`
		Data *string `json:"data"`
	} `json:"payload"`
}

func str(s string) *string { return &s }

// TestResumeHook drives ResumeHook in Chromium the way LiveView does.
func TestResumeHook(t *testing.T) {
	ctx := openHarness(t)

	t.Run("mounted registers the seed's events", func(t *testing.T) {
		got := eval[[]string](t, ctx, `sessionStorage.clear(); return mount().events();`)
		assert.Equal(t, []string{"clear", "restore", "store"}, got)
	})

	type restored struct {
		Pushed  []pushed `json:"pushed"`
		Storage *string  `json:"storage"`
	}
	one := func(event, key string, data *string) []pushed {
		p := pushed{Event: event}
		p.Payload.Key, p.Payload.Data = key, data
		return []pushed{p}
	}
	tests := []struct {
		name   string
		script string // runs against h = mount(), with empty sessionStorage
		want   restored
	}{
		{
			name:   "store writes sessionStorage",
			script: `h.dispatch("store", {key: "launch", data: "XCP.sealed"});`,
			want:   restored{Storage: str("XCP.sealed")},
		},
		{
			name:   "restore pushes the blob under the default event",
			script: `h.dispatch("store", {key: "launch", data: "XCP.sealed"}); h.dispatch("restore", {key: "launch"});`,
			want:   restored{Pushed: one("restore", "launch", str("XCP.sealed")), Storage: str("XCP.sealed")},
		},
		{
			name:   "restore answers with the event it was asked for",
			script: `h.dispatch("store", {key: "launch", data: "x"}); h.dispatch("restore", {key: "launch", event: "restoreSettings"});`,
			want:   restored{Pushed: one("restoreSettings", "launch", str("x")), Storage: str("x")},
		},
		{
			name:   "restore of a missing key pushes null",
			script: `h.dispatch("restore", {key: "launch"});`,
			want:   restored{Pushed: one("restore", "launch", nil)},
		},
		{
			name:   "clear removes the key",
			script: `h.dispatch("store", {key: "launch", data: "x"}); h.dispatch("clear", {key: "launch"}); h.dispatch("restore", {key: "launch"});`,
			want:   restored{Pushed: one("restore", "launch", nil)},
		},
		{
			name:   "clear leaves other keys alone",
			script: `sessionStorage.setItem("other", "o"); h.dispatch("store", {key: "launch", data: "x"}); h.dispatch("clear", {key: "launch"}); h.dispatch("restore", {key: "other"});`,
			want:   restored{Pushed: one("restore", "other", str("o"))},
		},
		{
			name:   "reconnected answers the last restore again, with the current blob",
			script: `h.dispatch("restore", {key: "launch", event: "r"}); h.hook.pushed = []; h.hook.disconnected(); h.dispatch("store", {key: "launch", data: "new"}); h.hook.reconnected();`,
			want:   restored{Pushed: one("r", "launch", str("new")), Storage: str("new")},
		},
		{
			name:   "reconnected does not answer again after a restore since disconnected",
			script: `h.dispatch("restore", {key: "launch"}); h.hook.disconnected(); h.dispatch("restore", {key: "launch"}); h.hook.pushed = []; h.hook.reconnected();`,
			want:   restored{},
		},
		{
			name:   "reconnected before any restore pushes nothing",
			script: `h.dispatch("store", {key: "launch", data: "x"}); h.hook.disconnected(); h.hook.reconnected();`,
			want:   restored{Storage: str("x")},
		},
		{
			name:   "instances made from one definition share no state",
			script: `h.dispatch("restore", {key: "launch"}); h.hook.pushed = []; const other = mount(); other.hook.disconnected(); other.hook.reconnected(); h.hook.pushed = other.hook.pushed;`,
			want:   restored{},
		},
		{
			name:   "store with data null or missing clears the key",
			script: `h.dispatch("store", {key: "launch", data: "x"}); h.dispatch("store", {key: "launch", data: null}); sessionStorage.setItem("k2", "y"); h.dispatch("store", {key: "k2"}); h.dispatch("restore", {key: "launch"}); h.dispatch("restore", {key: "k2"});`,
			want:   restored{Pushed: append(one("restore", "launch", nil), one("restore", "k2", nil)...)},
		},
		{
			name:   "an element with data-key handles that key only",
			script: `const a = mount(undefined, Object.assign(document.createElement("div"), {id: "a"})); a.hook.el.dataset.key = "launch"; a.dispatch("store", {key: "other", data: "o"}); a.dispatch("restore", {key: "other"}); a.dispatch("store", {key: "launch", data: "x"}); a.dispatch("restore", {key: "launch"}); h.hook.pushed = a.hook.pushed; h.hook.pushed.push({event: "stored other", payload: {key: "other", data: sessionStorage.getItem("other")}});`,
			want:   restored{Pushed: append(one("restore", "launch", str("x")), one("stored other", "other", nil)...), Storage: str("x")},
		},
		{
			name:   "a pushEvent that rejects is caught",
			script: `h.hook.pushEvent = () => Promise.reject(new Error("Failed to push hook event")); let unhandled = 0; addEventListener("unhandledrejection", () => unhandled++, {once: true}); h.dispatch("restore", {key: "launch"}); await new Promise((r) => setTimeout(r, 10)); h.hook.pushed = unhandled ? [{event: "unhandled", payload: {key: ""}}] : [];`,
			want:   restored{},
		},
		{
			name:   "bad payloads are ignored",
			script: `h.dispatch("store", null); h.dispatch("store", {data: "x"}); h.dispatch("clear", 42); h.dispatch("restore", {}); h.dispatch("restore", undefined); h.hook.reconnected();`,
			want:   restored{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := eval[restored](t, ctx, `sessionStorage.clear(); const h = mount(); `+tt.script+
				` return {pushed: h.hook.pushed, storage: sessionStorage.getItem("launch")};`)
			if tt.want.Pushed == nil {
				tt.want.Pushed = []pushed{}
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestModuleExports checks the module namespace that Chromium sees against
// the exports that TestTypesDeclareEveryExport finds in the source.
func TestModuleExports(t *testing.T) {
	ctx := openHarness(t)
	got := eval[[]string](t, ctx, `return Object.keys(sealkit).sort();`)
	want := jsExports(t)
	slices.Sort(got)
	assert.Equal(t, want, got)
	assert.Equal(t, "sealkit.resume.v1", eval[string](t, ctx, `return sealkit.PROTOCOL;`))
}
