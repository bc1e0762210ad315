// Package sealkit lets a web server keep private, short-lived state in the
// user's own browser, sealed so that only the server can read it, and pick up
// where it left off after a page refresh or a server restart.
//
// The module is a set of small packages, each with one idea:
//
//   - [github.com/sealkit/sealkit/seal]: Phoenix.Token-style sealed and
//     signed tokens with expiry, wire-compatible with Phoenix.Token and
//     Plug.Crypto, so Go and Elixir services that share a secret_key_base
//     read each other's tokens. Its subpackage
//     [github.com/sealkit/sealkit/seal/etf] encodes and decodes Erlang's
//     External Term Format.
//   - [github.com/sealkit/sealkit/resume]: the resume protocol over plain
//     net/http: the server asks, the client hands back its sealed blob, the
//     server reopens it and re-attaches to the job.
//   - [github.com/sealkit/sealkit/hooks]: the embeddable JavaScript hook file,
//     served by Go, usable as a Phoenix LiveView hook and on its own.
//   - [github.com/sealkit/sealkit/flylaunch]: resumable Fly.io deploys over
//     github.com/superfly/fly-go, with an offline simulator of the Fly
//     Machines API in [github.com/sealkit/sealkit/flylaunch/flysim].
//
// The example/launcher command composes them into a Livebook launcher whose
// user can refresh the page or kill the server mid-deploy and watch it
// recover.
//
// Layering: seal is at the bottom; resume may use seal; hooks and flylaunch
// stand alone; only the example composes everything. The root test
// TestImportLayering enforces these rules.
package sealkit
