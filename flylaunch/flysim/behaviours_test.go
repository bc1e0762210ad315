package flysim_test

import (
	"testing"
	"time"

	"github.com/sealkit/sealkit/flylaunch/flysim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// TestFlyBehaviours lists each behaviour flysim simulates with the source
// it copies (a Fly docs page, or a flyctl / fly-go file and function, or
// a public report of Fly's answers) and asserts it through fly-go's real
// client. flyctl and fly-go paths are in github.com/superfly/flyctl and
// github.com/superfly/fly-go; "fly-go v0.9.3" is the version sealkit uses.
func TestFlyBehaviours(t *testing.T) {
	behaviours := []struct {
		behaviour string
		source    string
		check     func(*testing.T)
	}{
		// Propagation.
		{"after CreateApp, routes naming the app answer 404 (sometimes 401) for a while; the name is taken at once",
			"fly-go v0.9.3 flaps/flaps_apps.go WaitForApp (retries 404 and 401); flyctl internal/command/apps/create.go (CreateApp, then WaitForApp), commit d37ad7d \"Don't continue after creating app until machines API can see it\" (#3112)",
			testAppPropagation},
		{"fly-go's WaitForApp gets through the app propagation window",
			"fly-go v0.9.3 flaps/flaps_apps.go WaitForApp, flaps/retry.go Retry",
			testWaitForApp},
		{"a new machine's Get, /wait and other routes naming it answer 404 for a while",
			"flyctl internal/machine/leasable_machine.go WaitForState with WithJustCreated, commit d170dd1 \"Make `deploy` more robust to propagation delays\" (#4618)",
			testMachinePropagation},
		{"retrying /wait on 404 for a machine just created gets through",
			"flyctl internal/machine/leasable_machine.go WaitForState (case notFoundResponse && options.justCreated)",
			testWaitRetriedOn404},
		{"machine lists (metadata filter or not) lag creation; a name repeated within the lag makes a duplicate, after it 409 already_exists",
			"flyctl internal/command/deploy/strategy_bluegreen.go launchLookupDelay and launchGreenMachineWithRetry (list store is Corrosion, a lookup delay \"reduces but does not eliminate\" duplicates); https://fly.io/infra-log/machines-api-duplicates/ (an empty list made fly deploy create duplicates); 409 \"already_exists: unique machine name violation\": fly-go flaps/flaps_error_test.go TestCapacityScopeOf. That the name check reads the lagging store is flysim's assumption.",
			testListLag},

		// Machines and their config.
		{"health checks pass only on the port Livebook listens on (LIVEBOOK_PORT, default 8080), behind services pointing there, and over HTTP only for GET /public/health",
			"livebook-dev/livebook lib/livebook/config.ex port!, config/prod.exs (port 8080), lib/livebook_web/router.ex (scope \"/public\", get \"/health\", no auth); check fields: https://fly.io/docs/machines/api/machines-resource/ (config.checks, services[].checks)",
			testStrictHealth},
		{"an image flysim cannot run: created, launch_failed, then destroyed",
			"https://fly.io/docs/machines/machine-states/ (launch_failed: \"Machine failed to launch; will transition to destroyed\")",
			testUnknownImage},
		{"an update or start to an image flysim cannot run: replacing, then failed, which stays",
			"https://fly.io/docs/machines/machine-states/ (replacing, failed); flyctl internal/machine/update.go (after Update, waits to settle and checks state == \"failed\")",
			testFailedUpdate},
		{"a Livebook that cannot start (no or short LIVEBOOK_PASSWORD, bad LIVEBOOK_PORT) crash-loops under its restart policy, exit events as flyd reports them",
			"livebook-dev/livebook lib/livebook/config.ex password! (\"must be at least 12 characters\"), port!; https://fly.io/docs/machines/guides-examples/machine-restart-policy/ (no, always, on-fail up to 10 times); fly-go v0.9.3 machine_types.go MachineRestart, MachineExitEvent; flyctl internal/machine/leasable_machine.go isConstantlyRestarting",
			testCrashLoop},
		{"stop: stopping then stopped; suspend: suspending then suspended; start resumes",
			"https://fly.io/docs/machines/machine-states/ (stopping, suspending, suspended); fly-go v0.9.3 flaps/flaps_machines.go Suspend",
			testStopAndSuspend},
		{"Fly Proxy autostop: a started machine whose service says autostop \"stop\" (\"suspend\") is stopped (suspended) after the app had no request for the idle period, counted from its last request; min_machines_running stay started",
			"https://fly.io/docs/reference/fly-proxy-autostop-autostart/ (\"stops or suspends exactly one Machine\", \"every few minutes\", min_machines_running in the primary region); https://fly.io/docs/launch/autostop-autostart/ (auto_stop_machines acts \"when the app is idle for several minutes\"); the 5 minutes, and stopping every idle machine at once, are flysim's simplification",
			testAutostop},
		{"Fly Proxy autostop counts load, not time since the last request: an open Livebook tab (a request held open, as LiveView's WebSocket is) keeps the machine started however long; the idle period starts when it closes",
			"https://fly.io/docs/reference/fly-proxy-autostop-autostart/ (\"if the Machine has no traffic (a load of 0), then the proxy stops or suspends the Machine\"); https://fly.io/docs/apps/concurrency/ (load is connections, the default type, or requests); phoenix_live_view keeps one WebSocket per open page (/live/websocket)",
			testIdleMeansNoLoad},
		{"Fly's edge routes <app>.fly.dev to a new app a while after its machine started: until then it answers 404 as for an app it does not know; checks run on the private network, not through the edge; a restart does not make it forget the app",
			"Fly's docs as quoted in sealkit issue 18, item 4 (the app answers on its IP, and at <app>.fly.dev \"after a small delay\"; proxy nodes learn of a started machine with a delay; checks run on the private network); https://fly.io/docs/machines/api/apps-resource/ (an app is reachable from the internet only through its allocated IPs and Fly's Anycast routing). The 30 s, and the 404, are flysim's reading",
			testEdgeDelay},
		{"Fly Proxy autostart: a request to the app starts a stopped machine whose service autostarts and is answered once it serves; without autostart it is not started",
			"https://fly.io/docs/reference/fly-proxy-autostop-autostart/ (Fly Proxy \"starts existing Machines based on incoming requests\"); https://github.com/superfly/machine-proxy README (the proxy starts the VM, \"blocking on HTTP requests until the VM is ready\")",
			testAutostart},

		// Volumes.
		{"volumes: create, list, get and delete; a deleted volume is scheduling_destroy, then pending_destroy for a day, and GetVolumes leaves it out; a repeated name is not refused",
			"https://fly.io/docs/machines/api/volumes-resource/ (endpoints and properties); https://fly.io/docs/volumes/volume-states/ (created; \"Destroy a volume: creating → scheduling_destroy → pending_destroy\", \"stays in the pending_destroy state for 24 hours\"); fly-go v0.9.3 flaps/flaps_volumes.go (GetVolumes drops destroyedVolumeStates); flyctl internal/command/volumes/create.go (only warns about a name in use). The volume name rule is flysim's assumption",
			testVolumes},
		{"a machine mounts a volume by ID (config.mounts); a second machine on an attached volume answers 412; a destroyed machine frees its volume",
			"https://community.fly.io/t/409-conflict-error-from-machines-api/15555 (Fly staff: 412 Precondition Failed \"can only happen if the machine attempts to use a volume that's already in use by another machine\"); https://fly.io/docs/machines/api/machines-resource/ (config.mounts, volume and path); flyctl pull request #1074 (\"A volume may only be attached to one machine\"). The 412 for deleting an attached volume, and the message texts, are flysim's assumption",
			testVolumeAttach},
		{"a new volume's GetVolume answers 404 and volume lists miss it for a while, as for a machine; a launch may mount it at once",
			"flysim's assumption, by analogy with machines (volumes are read from the same replicated store, see the machine rows and https://fly.io/infra-log/machines-api-duplicates/); placement reading the volume store as it is lets flyctl's create-volume-then-launch work",
			testVolumePropagation},

		{"a volume is on one host; without a compute hint it can land on a host without room for a machine (every launch on it: 412 \"could not reserve resource for machine\"); with one, on a host with room for the hinted guest",
			"https://fly.io/docs/volumes/overview/ (\"A volume exists on one server\"; Volume placement: \"Without a hint, your volume can end up on a host with room for the volume but not for the Machine\"); fly-go v0.9.3 volume_types.go CreateVolumeRequest (ComputeRequirements `json:\"compute\"`, ComputeImage: \"make the placement logic aware of it\"); flyctl internal/command/deploy/deploy_first.go and internal/command/volumes/create.go (send the guest and image); the 412 text: https://github.com/Kilo-Org/cloud/pull/412 and flyctl internal/build/imgsrc/ensure_builder_test.go (\"could not reserve resource for machine: insufficient memory available to fulfill request\"), flyctl internal/command/deploy/machines_deploymachinesapp.go (a machine with a volume stays on its host). How often an unhinted volume lands so (half, in the realistic profile), refusing a guest larger than the hint, and a hinted volume's host filling up before the machine comes (FillVolumeHosts) are flysim's assumptions",
			testVolumeHost},
		{"which unhinted volumes land on a host without room follows from the seed",
			"flysim's own (Options.Seed, for reproducible tests)",
			testVolumeHostSeeded},
		{"a host pulls an image before a machine starts, once; the first boot on a new volume encrypts and formats it before the machine is started",
			"https://fly.io/docs/apps/info/ (\"Watch an app's logs\": \"Pulling container image\" to \"Setting up volume\" 12 s, \"Uninitialized volume 'data', initializing...\", \"Encrypting volume\", \"Formatting volume\" to \"Configuring firecracker\" 8 s); issue 18 (about 9 s in a real Livebook log). That the pull is once per host and image, and that a restart pulls nothing, are flysim's assumptions",
			testBootTimings},
		{"an address request's org_slug is recorded, not required",
			"fly-go v0.9.3 flaps/flaps_ip_assignments.go AssignIPRequest (Organization `json:\"org_slug\"`); flyctl internal/command/deploy/deploy_first.go provisionIpsOnFirstDeploy (sends Organization); https://fly.io/docs/blueprints/warm-pool-user-machines/ (Fly's own ip_assignments example sends no org_slug)",
			testAssignIPOrg},

		{"every state Fly has shows where it applies",
			"https://fly.io/docs/machines/machine-states/",
			testEveryState},

		// Error shapes.
		{"no capacity, five ways: 412 insufficient_capacity, 409 insufficient memory, 412 insufficient resources, 403 over quota, 502/503 with a body (resent by fly-go)",
			"fly-go v0.9.3 flaps/flaps_error.go (insufficient_capacity, Suggestion); https://community.fly.io/t/409-conflict-error-from-machines-api/15555 (409 when the host lacks capacity); https://github.com/Kilo-Org/cloud/pull/412 (Fly's 409 \"aborted: could not reserve resource for machine: insufficient memory available to fulfill request\" next to 412 insufficient resources); https://github.com/Kilo-Org/cloud/pull/516 (403 \"... which is over the allowed quota. please consider other regions\"); https://community.fly.io/t/capacity-fixes-improvements/17276 (\"no capacity available in fra\"); fly-go v0.9.3 http.go NewHTTPClient (rehttp RetryStatuses(502, 503), 3 retries)",
			testNoCapacityShapes},
		{"a taken app name: 422 with status name_taken",
			"fly-go flaps/flaps_error.go IsNameTakenError, commit c4069b8 \"Add a name_taken status code for app-name collisions\" (#279)",
			testNameTakenShape},
		{"another organization's app: 403 {\"error\":\"unauthorized\"}; a bad token: 401",
			"fly-go flaps/flaps_apps.go AppNameAvailable, commit 2c33879 \"Report an app held by another org as taken, not as an error\" (#282)",
			testForeignAppVersusBadToken},
		{"\"personal\" and the raw personal slug name one organization; responses say \"personal\"",
			"flyctl internal/command/launch/plan_builder.go (\"The personal org's canonical Slug is always \\\"personal\\\", but callers ... may supply the real/raw slug\"), internal/command/mpg/mpg.go AliasedOrganizationSlug",
			testPersonalOrgSlugs},
		{"injected answers in Fly's shape: message, status code, Retry-After (429 says 1 s unless told)",
			"fly-go v0.9.3 flaps/flaps.go handleAPIError ({\"error\"}), flaps/flaps_error.go errorResponse ({\"status\"}); flyctl internal/flapsutil/retry.go IsTransientFlapsError (408, 429, 5xx are transient); https://community.fly.io/t/understanding-fly-io-api-rate-hard-limits/20636 (per-action rate limits)",
			testFaultShapes},
		{"a wait for stopped needs the machine's instance_id: 400 without it (fly-go's \"version\" is not taken for it), 400 for an instance that is not the current one",
			"https://fly.io/docs/machines/api/machines-resource/#wait-for-a-machine-to-reach-a-specified-state (instance_id: \"Required when waiting for Machine to be in stopped state\"; 400 Bad Request); https://github.com/Kilo-Org/cloud/pull/297 (\"Fly API requires instance_id when calling /machines/{id}/wait?state=stopped, otherwise returns 400\"); fly-go commit 0bcb397 (#210, v0.4.0) sends the filter as \"version\". The 400 for a stale instance and for \"version\" alone are flysim's reading (the docs name only instance_id, a filter for one instance)",
			testStoppedWaitNeedsInstance},
		{"start and stop from a state that is still changing answer 412 \"unable to start machine from current state: '<state>'\"; a stop of a machine already down too; start from stopped or suspended and stop from started go through",
			"issue 18's real logs (412 on start from replacing, created, stopping); https://fly.io/docs/machines/machine-states/ (created, starting, replacing, stopping, suspending are transitions under way); flyctl internal/command/machine/start.go and stop.go (send start / stop and report Fly's error as is, no retry). Refusing starting and suspending, and a stop of a machine already down, are flysim's reading; a start of a started machine is accepted (Fly's answer carries previous_state)",
			testBusyRefusals},
		{"rate limits: 1 request a second per action per machine or app, bursts of 3; reads 5 a second, bursts of 10; app deletions 100 a minute; past them 429 with Retry-After",
			"https://fly.io/docs/machines/api/working-with-machines-api/#rate-limits; https://community.fly.io/t/understanding-fly-io-api-rate-hard-limits/20636 (Fly staff, same numbers). Giving every GET Get Machine's ceiling, and rates in simulated time, are flysim's reading (fly-go's WaitForApp polls GetApp from 100 ms on)",
			testRateLimits},
		{"a wait that times out answers 408 deadline_exceeded",
			"fly-go v0.9.3 flaps/flaps_machines_wait.go Wait (timeout query, 60 s cap); flyctl internal/flapsutil/retry.go (\"408 Request Timeout (typically a context.DeadlineExceeded that flaps hit talking to flyd)\")",
			testWait408},
		{"destroying a running machine without force answers 412",
			"https://fly.io/docs/flyctl/machine-destroy/ (\"requires a machine to be in a stopped state unless the force flag is used\")",
			testDestroyForce},
	}
	for _, b := range behaviours {
		require.NotEmpty(t, b.source, b.behaviour)
		t.Run(b.behaviour, b.check)
	}
}

// testEveryState walks machines through every state Fly documents.
func testEveryState(t *testing.T) {
	prof := strictOnly()
	prof.Stopping = 2 * time.Second
	e := newEnv(t, flysim.Options{Profile: prof})
	ctx := ctxT(t)
	m := strictApp(t, e, "states", goodPassword, livebookMachine())
	bad := strictApp(t, e, "states-bad", goodPassword, livebookMachine(func(c *fly.MachineConfig) { c.Image = "nginx" }))
	seen := map[string]bool{}
	step := func(app, id string, d time.Duration, want string) {
		t.Helper()
		e.clock.Advance(d)
		got, err := e.client.Get(ctx, app, id)
		require.NoError(t, err)
		require.Equal(t, want, got.State)
		require.NoError(t, e.client.Wait(ctx, app, id, flaps.WithWaitStates(want), flaps.WithWaitTimeout(time.Second)), "wait accepts %s", want)
		seen[want] = true
	}
	step("states", m.ID, 0, "created")
	step("states-bad", bad.ID, 0, "created")
	step("states", m.ID, 2*time.Second, "starting")
	step("states-bad", bad.ID, 0, "launch_failed")
	step("states", m.ID, 20*time.Second, "started")
	step("states-bad", bad.ID, 40*time.Second, "destroyed")

	up := livebookMachine()
	up.ID = m.ID
	_, err := e.client.Update(ctx, "states", up, "")
	require.NoError(t, err)
	step("states", m.ID, 0, "replacing")
	step("states", m.ID, 20*time.Second, "started")
	require.NoError(t, e.client.Stop(ctx, "states", fly.StopMachineInput{ID: m.ID}, ""))
	step("states", m.ID, 0, "stopping")
	step("states", m.ID, 2*time.Second, "stopped")
	_, err = e.client.Start(ctx, "states", m.ID, "")
	require.NoError(t, err)
	step("states", m.ID, 20*time.Second, "started")
	require.NoError(t, e.client.Suspend(ctx, "states", m.ID, ""))
	step("states", m.ID, 0, "suspending")
	step("states", m.ID, 2*time.Second, "suspended")

	up.Config.Image = "nginx"
	_, err = e.client.Update(ctx, "states", up, "")
	require.NoError(t, err)
	_, err = e.client.Start(ctx, "states", m.ID, "")
	require.NoError(t, err)
	step("states", m.ID, 2*time.Second, "failed")
	require.NoError(t, e.client.Destroy(ctx, "states", fly.RemoveMachineInput{ID: m.ID}, ""), "a failed machine is idle")
	step("states", m.ID, 0, "destroying")
	step("states", m.ID, time.Second, "destroyed")

	for _, st := range []string{"created", "starting", "started", "stopping", "stopped", "replacing", "destroying", "destroyed", "failed", "launch_failed", "suspended"} {
		assert.True(t, seen[st], st)
	}
}
