// The assets/js/app.js of a Phoenix 1.8 app (mix phx.new), cut down to what
// TestResumeHookLiveView needs, with sealkit's hook vendored into
// assets/vendor/ as hooks/PHOENIX.md says. The test copies the current
// hooks/sealkit-resume.js to assets/vendor/ and bundles this file with the
// esbuild arguments of Phoenix 1.8's config/config.exs.
import {Socket} from "phoenix"
import {LiveSocket} from "phoenix_live_view"
import {ResumeHook} from "../vendor/sealkit-resume.js"

// Probe answers the test server's "ping" with a "pong": a round trip after
// which the server has seen everything the page pushed before it.
const Probe = {
  mounted() {
    this.handleEvent("ping", (payload) => this.pushEvent("pong", payload))
  },
}

const csrfToken = document.querySelector("meta[name='csrf-token']").getAttribute("content")
// No longPollFallbackMs: the test's server speaks WebSocket only.
const liveSocket = new LiveSocket("/live", Socket, {
  params: {_csrf_token: csrfToken},
  hooks: {Resume: ResumeHook, Probe},
})
liveSocket.connect()
window.liveSocket = liveSocket
