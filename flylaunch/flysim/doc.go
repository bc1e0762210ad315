// Package flysim is an offline simulator of the Fly Machines API (flaps), as
// spoken by fly-go v0.9.3's real client (github.com/superfly/fly-go/flaps).
//
// A [Server] is an [http.Handler] that serves the subset of the Machines API
// a launcher needs — apps, write-only app secrets, IP assignments, machines
// (launch, get, list with metadata filters, wait, start, kill, destroy),
// machine metadata and leases — with Fly's paths, query strings, status
// codes, JSON shapes ({"error": "..."} bodies) and a Fly-Request-Id header on
// every response. Machines progress created → starting → started and their
// health checks go critical → passing, computed from stored timestamps scaled
// by [Options.Speed], so a simulator restarted on the same [Options.DataDir]
// sees machines where they were and still progressing.
//
// Each app with a started machine also serves a stand-in Livebook under
// /livebook/{app}/ (no bearer auth): a health endpoint and a password login
// that accepts exactly the LIVEBOOK_PASSWORD secret the machine was launched
// with.
//
// fly-go has no base-URL option; point its client at a simulator with
// [Transport]. Faults (status codes, latency, ambiguous commits), taken app
// names and regions without capacity can be injected at any time with
// [Server.AddFault], [Server.ReserveName] and [Server.SetCapacity].
package flysim
