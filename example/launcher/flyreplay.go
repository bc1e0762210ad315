package main

import "net/http"

// flyReplay is resume's Options.Replay on Fly.io: a fallback POST for a
// stream that machine holds is answered with "fly-replay: instance=<id>",
// which Fly's proxy takes as an order to deliver the same request to that
// machine (https://fly.io/docs/networking/dynamic-request-routing/); the
// page never sees this answer. Fly reads the header on any answer; 409
// is what a client sees if no Fly proxy acted on it, and it reconnects.
//
// A request that Fly already replayed once (it carries Fly-Replay-Src) is
// not replayed again: resume replays only to another machine, so this
// would be a misrouted replay, and bouncing it on could loop. It gets
// 404 unknown_conn, and the page reconnects.
func flyReplay(w http.ResponseWriter, r *http.Request, machine string) bool {
	if r.Header.Get("Fly-Replay-Src") != "" {
		return false
	}
	w.Header().Set("Fly-Replay", "instance="+machine)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusConflict)
	return true
}
