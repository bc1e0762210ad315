package resume

import "net/http"

// FlyReplay is the Options.Replay of an application on Fly.io, with
// Options.Instance set to the machine's FLY_MACHINE_ID. It answers 409
// with "fly-replay: instance=<instance>", which Fly's proxy takes as an
// order to deliver the same request to that machine
// (https://fly.io/docs/networking/dynamic-request-routing/), so the client
// never sees the 409 (without a Fly proxy, it does, and reconnects). A
// request Fly already replayed (it carries Fly-Replay-Src) is not replayed
// again, so that two machines never bounce a POST between them: it gets 404
// unknown_conn, and the client reconnects.
//
// Other platforms plug in their own Replay: a redirect to the instance's
// own address, or a proxy of their own.
func FlyReplay(w http.ResponseWriter, r *http.Request, instance string) bool {
	if r.Header.Get("Fly-Replay-Src") != "" {
		return false
	}
	w.Header().Set("Fly-Replay", "instance="+instance)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusConflict)
	return true
}
