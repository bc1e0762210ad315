// Command flysim runs the offline Fly Machines API simulator
// (github.com/sealkit/sealkit/flylaunch/flysim) as a standalone server:
//
//	go run ./example/flysim -addr 127.0.0.1:4280 -data-dir /tmp/flysim [-speed 10] [-token T] [-profile instant] [-tenants alice=acme,bob=globex] [-v]
//
// -profile picks how hard the simulator is: "realistic" (the default: slow
// to agree after a write, strict about machine config, as Fly is; see
// flysim.Realistic) or "instant" (it agrees with itself at once and runs
// any image).
//
// Without -tenants, -token is the only bearer token accepted, or any
// non-empty one when it is empty. -tenants makes the simulator a
// multi-tenant token issuer, as Fly is (flysim.Options.Tenants): each
// tenant gets a Fly macaroon token ("FlyV1 fm2_...") reaching the
// organizations it names, and every request's token and caveats are
// verified. The list is comma-separated NAME=ORG[+ORG...] entries:
//
//	-tenants 'alice=acme,bob=globex,carol=acme+personal'
//
// gives alice the org acme, bob globex, and carol both acme (shared with
// alice: org slugs are one namespace) and her personal org. "dave=" is a
// tenant whose token reaches no organization. Names are lowercase letters,
// digits and dashes; anything else in the list (an empty entry, a name or
// org listed twice) is a usage error. With -tenants, -token (if set) is the
// operator's all-access token, accepted beside the tenants' tokens. The
// tokens derive from the tenants and the simulator's fixed seed: a
// restarted flysim with the same -tenants accepts the tokens it printed
// before. They are a simulator's tokens, worthless anywhere else, and
// anyone who reads this source can mint them: keep such a simulator on
// loopback.
//
// It prints the base URL to point a fly-go client at (with
// flysim.Transport) as the first line on stdout; with -tenants each
// tenant's token follows, one line each, in the order given:
//
//	http://127.0.0.1:4280
//	token alice FlyV1 fm2_...
//	token bob FlyV1 fm2_...
//
// (the token is the rest of the line, space included: paste it whole, e.g.
// into example/launcher -visitor-tokens). With -v it logs every request to
// stderr (method, path, status; never a token or a secret value). It shuts
// down gracefully on SIGINT or SIGTERM, leaving its state in
// DATA-DIR/flysim.json for the next run.
package main
