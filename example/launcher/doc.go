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
// under /flysim/, whose state lives in the data directory and so survives
// restarts. With FLY_API_TOKEN (and optionally FLY_ORG, default "personal")
// it launches real Livebooks on Fly.io; with -fly-api URL it talks to the
// Machines API at URL, such as a standalone go run ./example/flysim. The
// flags are in main.go and in the usage (launcher -h).
//
// The launcher answers only to its own host names (resume.AllowHosts: any
// other Host gets 421, against DNS rebinding): those of its listen address
// (resume.ListenHosts: a wildcard address answers to every IP literal), the
// -origin hosts and the -allowed-hosts, and on a Fly.io machine
// <FLY_APP_NAME>.fly.dev. There it also puts FLY_MACHINE_ID in every
// connection ID and answers a fallback POST for a stream another machine
// holds with "fly-replay: instance=<that machine>", so the fallback
// transport needs no sticky sessions (deploy/ holds the Dockerfile and
// fly.toml). On SIGTERM an instance stops accepting connections, closes its
// pages' connections with "going away" so that they reconnect elsewhere,
// and exits within shutdownTimeout. GET /healthz is liveness, 200 whatever
// the Fly API does; GET /readyz is 200 once the Fly API has answered a probe
// with the launcher's token, and while it fails the page says that launching
// is unavailable.
//
// A client is an IPv4 address or an IPv6 /64 (resume.ClientKey) of the peer,
// or with -trust-forwarded or -client-ip-header of what a trusted proxy
// reports (resume.ClientAddrFrom). Each may start 5 launches at once and one
// more every 20 seconds (a refused launch costs nothing, a resume that has to
// drive Fly costs a launch), and hold -max-conns-per-client connections on
// each of the two resume endpoints. The 10,000 most recently seen clients are
// tracked, so no flood of addresses locks new ones out. Ordinary requests are
// bounded to 30 s and 32 KiB of headers (defaultHTTPLimits).
//
// A launch that ends well gives a manage link, /manage#<sealed code>: the
// launch's identity, never its password, sealed for the purpose "manage" and
// valid manageMaxAge (30 days). The fragment never reaches a server; the
// manage page hands it to /manage/resume, shows the Livebook's state and
// offers Stop, Start and Delete (confirmed). Each action costs what a launch
// costs and runs one at a time per Livebook, after reading Fly's state; a
// page open reads Fly from a separate bucket (20 at once, one per 3 s). Only
// Fly saying so makes a Livebook gone: while Fly cannot be reached the page
// keeps the last state seen and the launcher reads again (2 s doubling to
// 30 s).
//
// The key base comes from SECRET_KEY_BASE (at least 32 bytes; earlier ones,
// still accepted for reading, from SECRET_KEY_BASE_PREVIOUS, comma-separated).
// Without it the launcher generates one (64 random bytes, base64url-encoded)
// on first start and keeps it in the data directory with mode 0600. Instances
// that share the key base and the Fly API serve any client: the launcher keeps
// no server-side session.
package main
