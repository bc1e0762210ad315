// Package hooks embeds sealkit's browser side, sealkit-resume.js, and serves
// it, and the application's own files the same way.
//
// sealkit-resume.js is one dependency-free ES module, no build step, under
// 4 KB gzipped, with a TypeScript declaration file next to it
// (sealkit-resume.d.ts). It exports:
//
//   - ResumeHook: a Phoenix LiveView hook with the event vocabulary of Fly.io's
//     Livebook launcher. The server pushes "store" {key, data}, "clear" {key}
//     and "restore" {key, event}; the hook keeps the sealed blob in
//     sessionStorage and answers a restore with pushEvent(event || "restore",
//     {key, data}), data null when nothing is stored. A store whose data is
//     not a string clears the key. After a LiveView reconnect it answers the
//     last restore again only if no restore arrived since the disconnect
//     (LiveView mounts afresh on rejoin; a mount that pushes "restore" gets one
//     answer). An element with a data-key attribute handles that key's events
//     only; one without handles every key. A push that fails (an error reply,
//     or while disconnected) is dropped, never an uncaught error.
//   - connectResume(options): the framework-agnostic client of the resume
//     protocol v1 served by package github.com/sealkit/sealkit/resume. It hands
//     the stored blob back on every (re)connect, stores and clears it as the
//     server says, delivers snapshots and events in order without duplicates,
//     reconnects with capped exponential backoff and full jitter, pauses while
//     the page is hidden or offline, and falls back from WebSocket to SSE read
//     by a streaming fetch of POST B/stream, with frames up as POST B/send.
//   - PROTOCOL: the WebSocket subprotocol, "sealkit.resume.v1".
//
// # Options of connectResume
//
// connectResume throws a TypeError for a missing or empty key or for unknown
// transports, and returns a client with action(name, data) (a promise of the
// server's reply), close() and status. Its options object:
//
//   - key (string, required): the storage key of the sealed blob, and the only
//     key the client reads or writes. It must equal the server's
//     resume.Options.Key: a frame for another key is refused with onError
//     {code: "wrong_key"} and the client closes for good.
//   - url (string or URL, default "/resume"): where the resume.Handler is
//     mounted, absolute or relative to the page.
//   - transports (default ["websocket", "sse"]): in order of preference.
//     After a WebSocket that fails to open and an SSE stream that works, the
//     page keeps SSE for this url. ["sse"] forces the fallback.
//   - storage (default sessionStorage): any object with getItem, setItem and
//     removeItem.
//   - onResult({status, message}): after each (re)connect, once the server
//     opened the blob; status is "fresh", "resumed", "expired", "invalid" or
//     "unbound" (see resume.Status).
//   - onSnapshot(seq, data), onEvent(seq, data): the job's state and its
//     events, in order, an event never twice for one seq.
//   - onStatus(status): "connecting", "open", "retrying" or "closed".
//   - onError({code, message}): a protocol error frame (resume/PROTOCOL.md
//     section 6), or "wrong_key"; after unsupported_version,
//     forbidden_origin and wrong_key the client stays closed, after the
//     others it reconnects.
//   - backoff ({baseMs, maxMs}, default 200 and 10000): the reconnect delay
//     is random in [0, min(maxMs, baseMs * 2^attempt)).
//
// # Serving the file
//
// A [Handler] serves the two files with a strong ETag (304 on a matching
// If-None-Match), immutable long-lived caching and nosniff. Because the
// caching is immutable, link to the file through [Handler.ImportMap],
// [Handler.URL] or [Handler.ScriptTag]: their URLs carry a content version,
// so a new release is a new URL. [Handler.Integrity] gives the Subresource
// Integrity value ("sha384-...") of a file.
//
// Mount the handler under a prefix with [net/http.StripPrefix], and put its
// import map into the page's head with html/template:
//
//	h := hooks.New()
//	mux.Handle("/hooks/", http.StripPrefix("/hooks", h))
//	importMap, err := h.ImportMap("/hooks") // {{.ImportMap}}, before any module script
//	hash, err := h.ImportMapHash("/hooks")  // script-src 'self' <hash>, under a strict CSP
//
// or let the page's template call it: execute the template with h (or data
// that holds it) and write {{.ImportMap "/hooks"}}, as the README's job app
// does; a bad prefix then fails the template's Execute.
//
// The map points the bare specifier "sealkit-resume" ([Specifier]) at the
// versioned URL and pins its integrity, so every module of the page, inline
// or a static file, imports it by name, with no build step and no version
// in any script:
//
//	<script type="module">
//	import {connectResume} from "sealkit-resume";
//	const client = connectResume({key: "job", url: "/resume", onResult: (r) => console.log(r.status)});
//	</script>
//
// A page that keeps its own import map adds the entry itself, from
// [Handler.URL] and [Handler.Integrity]; [Handler.ScriptTag] renders a
// module script tag of the versioned URL for pages without one.
//
// A Phoenix LiveView app bundles its JavaScript with esbuild, which cannot
// bundle that URL: vendor the file into assets/vendor/ and import it from
// there (import {ResumeHook} from "../vendor/sealkit-resume.js"). hooks/PHOENIX.md
// is the guide: vendoring, the hook's registration, the Elixir side
// (push_event, handle_event("restore", ...), Phoenix.Token) and how a Go
// service reads the same blob with package seal.
//
// # Serving the application's own files
//
// An [Asset] serves one file of the application's own (its module script,
// its style sheet) with the same strong ETag and Subresource Integrity, and
// links to it by a versioned URL ([Asset.URL]), but is revalidated on every
// use rather than cached for a year:
//
//	//go:embed web/app.js
//	var appJS []byte
//
//	app, err := hooks.NewAsset(appJS, "text/javascript; charset=utf-8")
//	mux.Handle("GET /static/app.js", app)
//	// <script type="module" src="{{.Src}}" integrity="{{.Integrity}}"></script>
//	data.Src, data.Integrity = app.URL("/static/app.js"), app.Integrity()
package hooks
