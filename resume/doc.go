// Package resume lets a web server keep a job's private state in the
// user's browser and pick the job up again after a page refresh, a deploy
// or a crash of the server. It is the server side of the sealkit resume
// protocol (version 1), over plain net/http.
//
// The pattern: the server keeps a job's private state (say, a generated
// password and the id of a deploy) in the user's own browser, sealed with
// [github.com/sealkit/sealkit/seal] so only the server can read it. On every
// (re)connect the server asks for the blob, the client hands it back, and
// the server reopens it and re-attaches to the job. No instance keeps
// anything a restart would lose: any instance with the same key base
// resumes any client.
//
// A [Handler] serves the protocol at a base URL B over two transports that
// share one connection core: WebSocket (GET B, subprotocol
// "sealkit.resume.v1") and a fallback of a server-sent-event stream
// (POST B/stream) plus one POST B/send per client frame. The application
// plugs in as an [App]: Open is called once per connection with the typed
// [Result] of the client's blob, Action for each client action. Through the
// [Conn] it stores a new state ([Conn.Store]), reads the one the page holds
// ([Conn.State]), forgets it ([Conn.Clear]), and streams the job
// ([Conn.Snapshot], [Conn.Event], whose seq belongs to the job), from a
// goroutine of its own if need be, bounded by [Conn.Context].
//
// What every application serving a Handler needs around it is here too:
// [AllowHosts] answers only the application's own host names (421 for
// others), the defence against DNS rebinding that the same-origin check
// relies on; [ClientAddrFrom] reads the client's address from a trusted
// proxy's header for Options.ClientAddr; [ClientKey] counts clients by
// IPv4 address or IPv6 /64, as Options.MaxConnsPerClient does, and so does
// [RateLimiter], which meters each client's costly actions (a token bucket
// per client, in bounded memory).
//
// Behind a load balancer every transport works on every instance without
// sticky sessions: a WebSocket is one connection, and a fallback POST that
// reaches an instance other than the one holding its stream can be handed
// to the load balancer to replay there (Options.Instance names the
// instance in every connection ID, Options.Replay answers, on Fly.io with
// [FlyReplay]).
//
// The state S is sealed as JSON (encoding/json: JSON tags apply, a
// time.Time keeps its instant) with the blob's purpose set to Options.Key.
// With Options.Bind the blob also carries a binding value (a session id,
// say), so a blob copied into another session is refused as
// [StatusUnbound]. Expired, tampered, foreign or unbound blobs are
// reported to the App and the client (which is told to clear the blob) and
// the connection goes on fresh. Key rotation comes from the seal.Sealer
// (seal.PreviousKeyBases).
//
// The wire protocol is specified in PROTOCOL.md next to this file, in
// enough detail to write another client; the JavaScript client is
// connectResume in [github.com/sealkit/sealkit/hooks]. Runnable examples
// are in example_test.go (go doc does not print them). The load tool in
// internal/loadtest measures recovery from a SIGKILLed server.
package resume
