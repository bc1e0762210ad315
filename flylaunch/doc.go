// Package flylaunch deploys a Livebook on Fly.io through fly-go's Machines
// API client (github.com/superfly/fly-go/flaps, v0.9.3) and can pick up a
// deploy it did not start — after a page refresh or a server restart —
// without creating a second app, IP, volume or machine, and manages the
// Livebook afterwards ([Livebook]: status, stop, start, delete). It is a
// Livebook deployer: its defaults are Livebook's image (a pinned release,
// [DefaultImage]), port and health check, its machine keeps Livebook's
// home and data on a volume and lets Fly's proxy stop it when idle, and
// its machine and messages are named for Livebook; the caller sets the
// secrets.
//
// # Steps
//
// A deploy runs these steps in order ([Step]):
//
//  1. [StepCreateApp]: create the app, then wait until GetApp sees it.
//  2. [StepSecrets]: set the secrets with UpdateAppSecrets and keep the
//     returned version, passed as MinSecretsVersion when the machine launches.
//     A Livebook spec without [LivebookKeyBase] gets one generated here, so
//     that a session outlives the machine's reboots (autostop, then the
//     next request); it is kept only by Fly.
//  3. [StepIPs]: allocate a v6 and a shared_v4 address, each checked
//     separately against GetIPAssignments.
//  4. [StepVolume]: create one volume ([Spec.VolumeSizeGB]) named after the
//     app in the machine's region, and record its ID ([Record.VolumeID]).
//  5. [StepLaunch]: launch one machine whose metadata carries the launch ID
//     ([MetadataKey]), with the volume mounted at /data and Livebook's
//     home and data on it (LIVEBOOK_HOME=/data,
//     LIVEBOOK_DATA_PATH=/data/.livebook), and one service that Fly's
//     proxy stops when idle and starts on the next request (autostop
//     "stop", autostart, no minimum running), restart policy on-failure,
//     and a stop that sends SIGTERM (the Erlang VM's clean shutdown; Fly's
//     default SIGINT is its break handler) with 30 s before the kill.
//  6. [StepStarted]: look at the machine, then wait server-side for
//     "started" in 10 s slices (a 408 means look and wait again), up to
//     [Options.StartDeadline]; a machine Fly reports failed, launch_failed
//     or crash-looping ends the deploy at once ([ErrMachineFailed]), and
//     one that was stopped (by the proxy, idle) is started again.
//  7. [StepHealthy]: keep one machine and one volume per launch ID, then
//     poll the machine until its health checks pass, then (with
//     [Options.Public]) GET the health path at https://<app>.fly.dev
//     until it answers 200: Fly's edge routes the public name to a new
//     app a while after its machine passed its checks, which run on the
//     private network. A deploy that never gets that answer ends with
//     [ErrNotReachable], short of StepHealthy (not [Record.Finished]).
//  8. [StepDone]: the Livebook answers at https://<app>.fly.dev — checked
//     through Fly's edge with [Options.Public]; without it, Done means the
//     machine is healthy and the first visit may come too early.
//
// # Resuming
//
// [Launcher.Start] hands out a [Record]: a few plain, JSON-tagged fields (app,
// org, region, launch ID, machine ID, volume ID, secrets version, last
// completed step, whether this launch created the app) that the caller may
// seal and keep anywhere, for instance in the browser. Every completed step
// publishes an updated Record in its [Event], so the caller can re-seal it.
//
// [Launcher.Resume] continues from a Record in any process. A Record that
// comes back (from a browser, say) is a claim about the past, not a
// command: any copy can come back, any number of times, after the world
// changed. So Resume checks Fly's state before every action and only moves
// forward. A [Record.Finished] record is only reported on (the app's URL
// and machine state, or [ErrGone]); an earlier one continues, but never
// re-creates the app or the machine it says exist ([ErrGone] if they are
// gone), never overwrites an existing secret, and adopts the machine
// carrying its launch ID (found with List's metadata filter, as flyctl does
// after an ambiguous create, or as the holder of the launch's volume,
// which takes one machine) instead of launching a second, and the volume
// of the launch's name instead of creating another. A record made before
// launches had a volume continues without one once past [StepLaunch]
// (nothing is added to a running machine). Resuming any number of times,
// from any point, never duplicates anything. Concurrent resumes of one
// deploy in one process share a single driver, keyed by
// launch ID, and a deploy that ended well (or found its app gone) answers
// further resumes for a minute ([Launcher.Attach]): replays cost the Fly API
// calls of one resume.
//
// Drivers run on the Launcher's own context, not on the context of the HTTP
// request that started them: a page refresh does not stop a deploy.
// [Deploy.Cancel] and [Launcher.Close] do.
//
// # After the deploy
//
// [Launcher.Livebook] turns a Record into a [Livebook], which reads and
// changes the launch long after its deploy ended: [Livebook.Status] (a
// [LaunchState]: running, starting, stopping, stopped, failed, deleting
// or gone), [Livebook.Stop] and [Livebook.Start], which wait until Fly
// agrees, and [Livebook.Delete], which removes what the launch provably
// created: the machines whose Fly metadata carries its launch ID, its
// volume, and the app (and with it its addresses) only if its own
// CreateApp succeeded ([Record.AppCreated]) and nothing else lives in it
// ([ErrAppKept] otherwise). Each reads Fly's state first and may be
// repeated.
//
// # Progress
//
// [Deploy.Subscribe] returns a [Snapshot] (current step, record, sequence
// number) and an iterator over every later [Event], in order, so a late
// subscriber catches up without missing or repeating anything.
//
// # Failures
//
// Every API call runs under its own deadline ([Options.CallTimeout]; fly-go's
// client has none). 408, 429, 500, 504 responses and connection errors are
// retried with exponential backoff and full jitter ([RetryPolicy]), waiting
// at least a 429's Retry-After; creating calls re-check Fly's state before
// each retry, so an ambiguous create (the request committed but the response
// was lost) is adopted, not repeated. Failures are [*APIError] values
// carrying Fly's request ID; a taken app name and a region without capacity
// (in every shape Fly says it: insufficient_capacity, insufficient memory or
// resources, over the org's quota, "no capacity" on a 502/503) match
// [ErrNameTaken] and [ErrNoCapacity] with errors.Is, a missed start
// deadline [ErrStartTimeout], a machine Fly reports failed
// [ErrMachineFailed], a cancelled deploy [ErrCanceled], a resumed deploy
// whose app or machine was removed [ErrGone]. A Livebook [Spec] whose port
// or health path is not Livebook's is refused by [Spec.Validate] before
// anything is created: such a machine would start and never be healthy.
//
// Fly is eventually consistent, and the package expects it to be
// ([Options.Propagation]): after its own CreateApp, GetApp may answer 404 or
// 401 for a while (fly-go's WaitForApp retries both); a machine created a
// moment ago may answer 404 to Get and /wait (flyctl retries it); the
// machine list lags behind launches (flyctl waits before it looks); and the
// personal org answers as "personal" whatever slug named it, so org slugs
// are compared in the form Fly answers with. A list that lags can let a
// second machine for one launch ID through after an ambiguous launch (Fly
// does not promise to refuse a repeated machine name): the deploy then keeps
// the oldest and destroys the others before it waits for health checks.
//
// fly-go's own retry layer resends any request answered 502 or 503, POSTs
// included, which after a lost response would create a second machine or
// IP. The client from [NewClient] returns [*LostResponseError] for those
// instead (with Fly's message, so that a 503 "no capacity" is read as such),
// and the driver re-checks Fly's state before trying again.
//
// Secret values never appear in logs, errors or events. The client built by
// [NewClient] logs nothing (fly-go's own debug logger would print request
// bodies, secrets included).
//
// # A visitor's own token
//
// A launch can run with the visitor's own Fly token instead of the
// operator's: [Organizations] lists the organizations it reaches (Fly's
// GraphQL API, as fly-go asks it) or says [ErrTokenRefused], and
// [AttenuateToApp] narrows a copy, offline, to the launch's app (by
// [Record.AppNumericID], Fly's numeric app ID, so that a later app of the
// same name is out of reach) and a validity window, as `fly tokens
// attenuate` does: the copy a manage link can carry. Neither ever puts the
// token in an error.
//
// fly-go has no base-URL option other than the FLY_FLAPS_BASE_URL environment
// variable, which this package never reads or sets: to talk to another
// server (such as the flysim simulator) pass an [http.RoundTripper] that
// rewrites the URL to [NewClient].
package flylaunch
