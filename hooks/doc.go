// Package hooks embeds sealkit's browser side, sealkit-resume.js, and serves
// it.
//
// sealkit-resume.js is one dependency-free ES module, no build step, under
// 8 KB, with a TypeScript declaration file next to it (sealkit-resume.d.ts).
// It exports:
//
//   - ResumeHook: a Phoenix LiveView hook with the event vocabulary of Fly.io's
//     Livebook launcher. The server pushes "store" {key, data}, "clear" {key}
//     and "restore" {key, event}; the hook keeps the sealed blob in
//     sessionStorage and answers a restore with pushEvent(event || "restore",
//     {key, data}), again after every LiveView reconnect.
//   - connectResume(options): the framework-agnostic client of the resume
//     protocol v1 served by package github.com/sealkit/sealkit/resume. It hands
//     the stored blob back on every (re)connect, stores and clears it as the
//     server says, delivers snapshots and events in order without duplicates,
//     reconnects with capped exponential backoff and full jitter, pauses while
//     the page is hidden or offline, and falls back from WebSocket to SSE read
//     by a streaming fetch of POST B/stream, with frames up as POST B/send.
//   - PROTOCOL: the WebSocket subprotocol, "sealkit.resume.v1".
//
// A [Handler] serves the two files with a strong ETag (304 on a matching
// If-None-Match), immutable long-lived caching and nosniff. Because the
// caching is immutable, link to the file through [Handler.URL] or
// [Handler.ScriptTag]: their URLs carry a content version, so a new release is
// a new URL. [Handler.Integrity] gives the Subresource Integrity value
// ("sha384-...") of a file.
//
// Mount the handler under a prefix with [net/http.StripPrefix]:
//
//	h := hooks.New()
//	mux.Handle("/hooks/", http.StripPrefix("/hooks", h))
//	tag, err := h.ScriptTag("/hooks") // for an html/template page
//
// and in the page's own module:
//
//	import {ResumeHook} from "/hooks/sealkit-resume.js?v=..." // the same URL as the tag
//	new LiveSocket("/live", Socket, {hooks: {Resume: ResumeHook}})
package hooks
