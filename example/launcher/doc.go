// Command launcher is a Livebook launcher that survives a page refresh and a
// server restart. It composes every sealkit package: the page talks to the
// server over the resume protocol (package resume, with the JavaScript client
// of package hooks), the generated Livebook password and the deploy record
// live only in the browser's sessionStorage, sealed with package seal, and
// the deploy itself runs through package flylaunch.
//
// Run it with no configuration:
//
//	go run ./example/launcher
//
// It serves http://127.0.0.1:8080 and launches simulated Livebooks on an
// in-process Fly Machines API simulator (package flylaunch/flysim) mounted
// under /flysim/ on the same server, whose state lives in the data directory
// and so survives restarts. With FLY_API_TOKEN (and optionally FLY_ORG, default
// "personal") set it launches real Livebooks on Fly.io. With -fly-api URL it
// talks to the Machines API at URL, for example a standalone simulator started
// with go run ./example/flysim, using FLY_API_TOKEN as its token.
//
// Flags:
//
//	-addr             address to listen on (default 127.0.0.1:8080)
//	-data-dir         directory for the generated key base and the simulator's
//	                  state (default $XDG_DATA_HOME/sealkit-launcher, else
//	                  $HOME/.local/share/sealkit-launcher, else ./.data)
//	-sim-speed        time scale of the in-process simulator: at 1 (the
//	                  default) a launch takes 30-60 s like a real one, which
//	                  leaves time to refresh the page or kill the server; 10
//	                  makes it ten times faster
//	-fly-api          URL of a Fly Machines API to use instead of Fly.io's,
//	                  with FLY_API_TOKEN as its token
//	-origin           comma-separated extra page origins the resume endpoint
//	                  accepts, e.g. https://launch.example.com, for a proxy
//	                  that does not pass the Host header through
//	-allowed-hosts    comma-separated host names the launcher answers to
//	                  besides its listen host and the -origin hosts, e.g.
//	                  launch.example.com (path.Match patterns such as
//	                  *.example.com allowed, ports ignored)
//	-trust-forwarded  behind one trusted reverse proxy: take the client
//	                  address for rate limiting and the connection cap from
//	                  the right-most X-Forwarded-For entry, the one that
//	                  proxy appended
//	-client-ip-header behind a trusted proxy that sets this header to the
//	                  client address (overwriting any copy the client
//	                  sent): take the client address from it; on Fly.io
//	                  use Fly-Client-IP, since the right-most entry Fly's
//	                  proxy appends to X-Forwarded-For is the app's own
//	                  address (excludes -trust-forwarded)
//	-max-conns-per-client
//	                  concurrent page connections (WebSockets and fallback
//	                  streams) one client may hold; more are answered 429
//	                  (default 32)
//	-image            the Livebook image to launch, pinned to a tag or a
//	                  digest; :latest and untagged images are refused
//	                  (default flylaunch.DefaultImage,
//	                  ghcr.io/livebook-dev/livebook:0.19.8)
//
// The launcher answers only to its own host names, against DNS rebinding (a
// page on another name pointed at the launcher's address); any other Host
// header gets 421 Misdirected Request, on every path including /healthz.
// Its names are the listen host (for a loopback address such as the
// default: 127.0.0.1, localhost and [::1]), the hosts of -origin and the
// -allowed-hosts. A wildcard listen address (-addr :8080, 0.0.0.0:8080,
// [::]:8080) also answers to localhost and to every IP address literal,
// which no rebinding page can send; to serve it under a DNS name, such as
// a public name or Fly's app.fly.dev, name it with -allowed-hosts or
// -origin. Host names are compared without case and without the port.
//
// On a Fly.io machine (FLY_MACHINE_ID and FLY_APP_NAME set by Fly) the
// launcher also answers to <FLY_APP_NAME>.fly.dev, puts the machine ID in
// every connection ID, and answers a fallback POST for a stream that
// another machine holds with "fly-replay: instance=<that machine>", so
// that Fly's proxy delivers it there: the fallback transport needs no
// sticky sessions. example/launcher/deploy holds its Dockerfile and
// fly.toml. On SIGTERM (Fly's kill_signal there) an instance stops
// accepting connections, closes its pages' connections with "going away"
// so that they reconnect at once, to another instance, and exits within
// shutdownTimeout. GET /healthz, fly.toml's check, is liveness: 200
// while the process serves, whatever the Fly API does, since Fly's proxy
// routes only to machines whose checks pass and pages, manage links and
// resumes must keep working when the Fly API is slow or refuses the token.
// GET /readyz, which no routing depends on, answers 200 only once the Fly
// Machines API has answered a probe with the launcher's token (a GET of an
// app nobody has, cached for a while), 503 otherwise; while it fails the
// launch page says that launching is unavailable right now, disables its
// form and refuses launches.
//
// A client is an IPv4 address or an IPv6 /64 (the peer address, or with
// -trust-forwarded the right-most X-Forwarded-For entry, or with
// -client-ip-header that header). Each client may
// start 5 launches at once and one more every 20 seconds; a launch that is
// refused (name taken, launcher busy) costs nothing, and a page that comes
// back to an instance not running its deploy costs a launch (its resume
// drives Fly), while one that re-attaches to a running deploy costs nothing. The launcher tracks
// the 10,000 most recently seen clients and forgets the least recently used
// one to make room, so no flood of addresses can lock new clients out. The
// HTTP server bounds every ordinary request to 30 s and 32 KiB of headers
// and closes keep-alive connections idle for 60 s; page connections live as
// long as the page, up to -max-conns-per-client of them per client.
//
// A launch that ends well gives a manage link, /manage#<sealed code>: the
// launch's identity (app, launch ID, machine, volume, whether the launch
// created the app), never its password, sealed with the key base for the
// purpose "manage" and valid 30 days. The code stays in the URL fragment,
// which browsers never send to a server; the manage page hands it to the
// launcher over the resume protocol at /manage/resume, shows the
// Livebook's state (running, starting, stopping, stopped, deleting or
// gone) and offers Stop, Start and Delete (after a confirmation). Each
// action costs what a launch costs (a token of the client's bucket and
// one of the concurrent-launch slots) and runs one at a time per
// Livebook; opening the page reads Fly once, from a separate bucket of 20
// reads at once and one more every 3 seconds per client. An action reads
// Fly's state before it acts: it refuses a Livebook that is gone, and a
// stop of a stopped one or a start of a running one only reports the
// state. Only Fly saying so makes a Livebook gone: while Fly cannot be
// reached the page says so, keeps the last state seen and its actions, and
// the launcher reads again by itself (2 s, doubling to 30 s) while the
// page is open.
//
// The key base comes from SECRET_KEY_BASE (at least 32 bytes; earlier ones,
// still accepted for reading, from SECRET_KEY_BASE_PREVIOUS, comma-separated).
// Without it the launcher generates one (64 random bytes, base64url-encoded)
// on first start and keeps it in the data directory with mode 0600. Instances
// that share the key base and the Fly API serve any client: the launcher keeps
// no server-side session.
package main
