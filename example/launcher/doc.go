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
// flags are in the usage (launcher -h); deploy/ holds the Dockerfile and
// fly.toml for Fly.io. GET /healthz is liveness; GET /readyz is 200 once the
// Fly API answers.
//
// With -visitor-tokens each visitor launches into their own Fly.io account
// with a token they paste (sealed in their tab while the launch runs, never
// kept by the server); -fly-api https://api.machines.dev is Fly.io itself,
// and without -fly-api the simulator offers a demo token.
//
// A launch that ends well gives a manage link, /manage#<sealed code>: the
// launch's identity, never its password. Its page shows the Livebook's state
// and offers Stop, Start and Delete.
//
// The key base comes from SECRET_KEY_BASE (earlier ones, still accepted for
// reading, from SECRET_KEY_BASE_PREVIOUS, comma-separated), or is generated
// on first start and kept in the data directory. Instances that share the
// key base and the Fly API serve any client: the launcher keeps no
// server-side session.
package main
