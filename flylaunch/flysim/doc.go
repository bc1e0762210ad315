// Package flysim is an offline simulator of the Fly Machines API (flaps), as
// spoken by fly-go v0.9.3's real client (github.com/superfly/fly-go/flaps).
//
// A [Server] is an [http.Handler] that serves the subset of the Machines API
// a launcher needs — apps, write-only app secrets, IP assignments, volumes
// (create, list, get, delete; attached by a machine config's mounts, one
// machine each), machines (launch, get, list with metadata filters, wait,
// start, stop, suspend, kill, destroy), machine metadata and leases — with
// Fly's paths, query strings, status codes, JSON shapes ({"error": "..."}
// bodies, with Fly's "status" code where Fly sets one, such as name_taken)
// and a Fly-Request-Id header on every response. Machines progress created → starting → started
// and their health checks go critical → passing, computed from stored
// timestamps scaled by [Options.Speed], so a simulator restarted on the
// same [Options.DataDir] sees machines where they were and still
// progressing.
//
// [Options.Profile] sets how hard the simulator is. [Instant] agrees with
// itself the moment a write returns and runs any image, for tests that
// need speed. [Realistic], the default, is at least as hard as Fly: a new
// app, a new machine or volume and their lists become visible only after
// propagation windows (404, or 401 for an app, meanwhile), only the
// Livebook image boots, health checks pass only on the port and path
// Livebook serves, a Livebook without a 12-character LIVEBOOK_PASSWORD
// crash-loops under its restart policy, machines go through the
// states Fly reports (replacing, stopping, suspending, failed,
// launch_failed, ...), a first boot pulls the image on its host and sets
// up a new volume before the machine is started, and a volume lives on
// one host: created without a compute hint it may land on a host without
// room for a machine, whose every launch on it is refused
// ([Profile.VolumeHostFullRate], [Server.FillVolumeHosts]).
//
// Each app with a started machine also serves a stand-in Livebook under
// /livebook/{app}/ (no bearer auth): a health endpoint and a password login
// that accepts exactly the LIVEBOOK_PASSWORD secret the machine was launched
// with. That path plays Fly's proxy too: a machine whose service says
// autostop is stopped (or suspended) after [Profile.AutostopIdle] without a
// request there, and a request starts a stopped machine whose service says
// autostart, and waits for it, before it is answered.
//
// The personal organization answers to [PersonalOrg] and to
// [PersonalOrgRawSlug]; responses say [PersonalOrg].
//
// By default any non-empty bearer token, or [Options.Token] alone, is
// accepted. With [Options.Tenants] the simulator is a token issuer as Fly
// is: it mints a macaroon token per tenant ([Server.Token], "FlyV1
// fm2_...", one github.com/superfly/macaroon permission macaroon per
// organization the tenant reaches, with Fly's Organization caveat) and
// verifies every request's token and its caveats with that library and its
// flyio caveats, on the simulator's clock: an Apps caveat (Fly's numeric
// app IDs, drawn anew for every app created, so a re-created app of the
// same name is another app), an Organization caveat, a ValidityWindow.
// A token it cannot verify, or one [Server.Revoke] revoked, gets 401
// "Authenticate: token validation error"; one whose caveats do not allow
// the request gets 403 "unauthorized". POST /graphql answers fly-go's
// GetOrganizations (https://api.fly.io/graphql, reached through
// [Transport] or [Server.Transport] like the Machines API) with the
// organizations the token reaches.
//
// fly-go has no base-URL option; point its client at a simulator with
// [Transport]. Faults (status codes, bodies in Fly's shapes, Retry-After,
// latency, ambiguous commits), taken app names and regions without
// capacity (in each of the ways Fly says so, see [NoCapacity]) can be
// injected at any time with [Server.AddFault], [Server.ReserveName] and
// [Server.SetNoCapacity].
package flysim
