package flylaunch

import (
	"context"
	"errors"
	fly "github.com/superfly/fly-go"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealkit/sealkit/flylaunch/flysim"
)

// assertOneOfEach checks the resources a finished deploy leaves: one app,
// one machine, a v6 and a shared v4.
func assertOneOfEach(t *testing.T, e *simEnv, app string) {
	t.Helper()
	machines, ips, exists := e.sim.Counts(app)
	assert.True(t, exists, "app exists")
	assert.Equal(t, 1, machines, "machines")
	assert.Equal(t, 2, ips, "IP assignments")
	assert.Equal(t, 1, e.sim.VolumeCount(app), "volumes")
}

// login posts password to the stand-in Livebook and returns the status.
func login(t *testing.T, e *simEnv, app, password string) int {
	t.Helper()
	resp, err := http.PostForm(e.srv.URL+"/livebook/"+app+"/", url.Values{"password": {password}})
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return resp.StatusCode
}

func TestHappyPath(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	stamp := time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC)
	l := e.launcher(t)
	l.clock = func() time.Time { return stamp }
	spec := testSpec("happy-livebook")

	d, err := l.Start(waitCtx(t), spec)
	require.NoError(t, err)
	evs := collect(t, d)
	res, err := d.Wait(waitCtx(t))
	require.NoError(t, err)

	assert.Equal(t, "https://happy-livebook.fly.dev", res.URL)
	assertOneOfEach(t, e, spec.App)
	assert.NotEmpty(t, res.Record.MachineID)
	assert.NotZero(t, res.Record.SecretsVersion)
	assert.Equal(t, StepHealthy, res.Record.Step)
	assert.Equal(t, res.Record, d.Record())

	// Events: consecutive, monotonic progress, every step completed in
	// order, one final success carrying the URL and record.
	var completed []Step
	for i, ev := range evs {
		assert.Equal(t, uint64(i+1), ev.Seq)
		assert.Equal(t, stamp, ev.Time, "events are stamped by the launcher's clock")
		if ev.Status == StatusCompleted {
			completed = append(completed, ev.Step)
			require.NotNil(t, ev.Record)
			assert.Equal(t, ev.Step, ev.Record.Step)
			assert.Equal(t, stamp.UTC(), ev.Record.Since, "the next step began as this one completed")
		}
	}
	assert.Equal(t, []Step{StepCreateApp, StepSecrets, StepIPs, StepVolume, StepLaunch, StepStarted, StepHealthy}, completed)
	last := evs[len(evs)-1]
	assert.Equal(t, StatusSucceeded, last.Status)
	assert.Equal(t, StepDone, last.Step)
	assert.Equal(t, res.URL, last.URL)
	require.NotNil(t, last.Record)
	assert.Equal(t, res.Record, *last.Record)

	snap := d.Snapshot()
	assert.True(t, snap.Final)
	assert.Equal(t, last.Seq, snap.Seq)

	// The machine got the password as a secret: the Livebook accepts it.
	assert.Equal(t, http.StatusOK, login(t, e, spec.App, testPassword))
	assert.Equal(t, http.StatusUnauthorized, login(t, e, spec.App, "wrong"))

	// One create of each kind; nothing was listed that did not need to be.
	calls := e.sim.Calls()
	assert.Equal(t, 1, calls["POST /v1/apps"])
	assert.Equal(t, 1, calls["POST /v1/apps/{app}/secrets"])
	assert.Equal(t, 2, calls["POST /v1/apps/{app}/ip_assignments"])
	assert.Equal(t, 1, calls["POST /v1/apps/{app}/volumes"])
	assert.Equal(t, 1, calls["POST /v1/apps/{app}/machines"])
	assert.Zero(t, calls["GET /v1/apps/{app}/machines"], "a fresh launch needs no metadata lookup")
	assert.Zero(t, calls["GET /v1/apps/{app}/volumes"], "nor a volume lookup")

	// The launched machine carries the whole spec.
	m, err := e.client.Get(waitCtx(t), spec.App, res.Record.MachineID)
	require.NoError(t, err)
	assert.Equal(t, d.LaunchID(), m.Config.Metadata[MetadataKey])
	assert.Equal(t, DefaultImage, m.Config.Image)
	assert.Equal(t, "ams", m.Region)
	assert.Equal(t, DefaultMemoryMB, m.Config.Guest.MemoryMB)
	assert.Equal(t, "::", m.Config.Env["LIVEBOOK_IP"])
	assert.NotContains(t, m.Config.Env, "LIVEBOOK_PASSWORD", "secrets travel as app secrets, not env")
	require.Len(t, m.Config.Services, 1)
	assert.Equal(t, DefaultInternalPort, m.Config.Services[0].InternalPort)
	require.Len(t, m.Config.Services[0].Ports, 2)
	assert.Equal(t, []string{"tls", "http"}, m.Config.Services[0].Ports[1].Handlers)
	require.Contains(t, m.Config.Checks, "livebook")
	assert.Equal(t, DefaultHealthPath, *m.Config.Checks["livebook"].HTTPPath)
	assert.EqualValues(t, "on-failure", m.Config.Restart.Policy, "what Fly recommends with autostop")
	svc := m.Config.Services[0]
	require.NotNil(t, svc.Autostop)
	assert.Equal(t, fly.MachineAutostopStop, *svc.Autostop, "Fly's proxy stops it when idle")
	require.NotNil(t, svc.Autostart)
	assert.True(t, *svc.Autostart, "and starts it on the next request")
	require.NotNil(t, svc.MinMachinesRunning)
	assert.Zero(t, *svc.MinMachinesRunning)

	// The volume: one, in the machine's region, mounted at /data with
	// Livebook's home and data on it.
	require.NotEmpty(t, res.Record.VolumeID)
	assert.Equal(t, []fly.MachineMount{{Volume: res.Record.VolumeID, Path: "/data"}}, m.Config.Mounts)
	assert.Equal(t, "/data", m.Config.Env["LIVEBOOK_HOME"])
	assert.Equal(t, "/data/.livebook", m.Config.Env["LIVEBOOK_DATA_PATH"])
	v, err := e.client.GetVolume(waitCtx(t), spec.App, res.Record.VolumeID)
	require.NoError(t, err)
	assert.Equal(t, "happy_livebook", v.Name)
	assert.Equal(t, "ams", v.Region)
	assert.Equal(t, DefaultVolumeSizeGB, v.SizeGb)
	require.NotNil(t, v.AttachedMachine)
	assert.Equal(t, m.ID, *v.AttachedMachine)

	assertNoSecret(t, e, evs, nil)
}

// assertNoSecret checks that the test password never leaked.
func assertNoSecret(t *testing.T, e *simEnv, evs []Event, err error) {
	t.Helper()
	assert.NotContains(t, e.logs.String(), testPassword, "logs")
	for _, ev := range evs {
		assert.NotContains(t, ev.Message, testPassword, "event %d", ev.Seq)
	}
	if err != nil {
		assert.NotContains(t, err.Error(), testPassword, "error")
	}
}

func TestLateSubscriberGetsSnapshotThenLiveEvents(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	l := e.launcher(t)
	// Pause the deploy inside StepLaunch so the subscriber is "late" but
	// the deploy is still running.
	release := make(chan struct{})
	reached := make(chan struct{})
	l.hook = func(ev Event) {
		if ev.Step == StepLaunch && ev.Status == StatusRunning {
			close(reached)
			<-release
		}
	}
	d, err := l.Start(waitCtx(t), testSpec("late-livebook"))
	require.NoError(t, err)
	<-reached
	snap, events := d.Subscribe(waitCtx(t))
	assert.Equal(t, StepLaunch, snap.Step)
	assert.Equal(t, StatusRunning, snap.Status)
	assert.False(t, snap.Final)
	assert.Equal(t, StepVolume, snap.Record.Step)
	close(release)

	want := snap.Seq + 1
	var last Event
	for ev := range events {
		assert.Equal(t, want, ev.Seq, "no gap, no repeat")
		want++
		last = ev
	}
	assert.Equal(t, StatusSucceeded, last.Status)
	all := collect(t, d)
	assert.Equal(t, last, all[len(all)-1], "late and full subscribers agree")
}

func TestSubscribeStopsWithContext(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	l := e.launcher(t)
	d, err := l.Start(waitCtx(t), testSpec("ctx-livebook"))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	for range d.Events(ctx) {
		n++
		cancel() // the iterator ends promptly instead of waiting for the deploy
	}
	assert.GreaterOrEqual(t, n, 1)
	_, err = d.Wait(waitCtx(t))
	require.NoError(t, err)

	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_, err = d.Wait(ctx2)
	assert.NoError(t, err, "a finished deploy answers even on a done ctx")
}

func TestNameTaken(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, e *simEnv)
	}{
		{"reserved by another org", func(t *testing.T, e *simEnv) { e.sim.ReserveName("taken-livebook") }},
		{"already exists in our org", func(t *testing.T, e *simEnv) {
			l := e.launcher(t)
			d, err := l.Start(waitCtx(t), testSpec("taken-livebook"))
			require.NoError(t, err)
			_, err = d.Wait(waitCtx(t))
			require.NoError(t, err)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSimEnv(t, envOptions{})
			tt.setup(t, e)
			l := e.launcher(t)
			_, err := l.Start(waitCtx(t), testSpec("taken-livebook"))
			require.ErrorIs(t, err, ErrNameTaken)
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, StepCreateApp, ae.Step)
			assert.Equal(t, 0, e.sim.Calls()["POST /v1/apps"]-boolInt(tt.name != "reserved by another org"))
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestNameTakenAfterStart: the name is taken between Start's check and the
// create (simulated by resuming a record whose app was reserved since).
func TestNameTakenAfterStart(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	l := e.launcher(t)
	e.sim.ReserveName("raced-livebook")
	rec := Record{LaunchID: strings.Repeat("ab", 16), App: "raced-livebook", Org: DefaultOrg, Region: "ams"}
	d, err := l.Resume(waitCtx(t), testSpec("raced-livebook"), rec)
	require.NoError(t, err)
	_, err = d.Wait(waitCtx(t))
	require.ErrorIs(t, err, ErrNameTaken)
	assert.Equal(t, StatusFailed, d.Snapshot().Status)
	assert.Zero(t, e.sim.Calls()["POST /v1/apps"])
}

func TestNoCapacity(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	e.sim.SetCapacity("ams", false)
	l := e.launcher(t)
	d, err := l.Start(waitCtx(t), testSpec("full-livebook"))
	require.NoError(t, err)
	_, err = d.Wait(waitCtx(t))
	require.ErrorIs(t, err, ErrNoCapacity)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, StepLaunch, ae.Step)
	assert.Equal(t, http.StatusPreconditionFailed, ae.Status)
	assert.NotEmpty(t, ae.RequestID, "Fly's request ID is kept")
	assert.Contains(t, err.Error(), ae.RequestID)
	assert.Equal(t, 1, ae.Attempts, "capacity errors are not retried")
	assertNoSecret(t, e, collect(t, d), err)

	// The failed deploy keeps its app and IPs, so with capacity back the
	// same record resumes to a complete deploy.
	machines, ips, exists := e.sim.Counts("full-livebook")
	require.True(t, exists)
	assert.Equal(t, 0, machines)
	assert.Equal(t, 2, ips)
	e.sim.SetCapacity("ams", true)
	d, err = l.Resume(waitCtx(t), testSpec("full-livebook"), d.Record())
	require.NoError(t, err)
	res, err := d.Wait(waitCtx(t))
	require.NoError(t, err)
	assertOneOfEach(t, e, "full-livebook")

	// Delete removes everything.
	require.NoError(t, deleteLaunch(waitCtx(t), l, res.Record))
	_, _, exists = e.sim.Counts("full-livebook")
	assert.False(t, exists)
}

func TestDelete(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	l := e.launcher(t)
	spec := testSpec("doomed-livebook")
	d, err := l.Start(waitCtx(t), spec)
	require.NoError(t, err)
	res, err := d.Wait(waitCtx(t))
	require.NoError(t, err)

	require.NoError(t, deleteLaunch(waitCtx(t), l, res.Record))
	machines, ips, exists := e.sim.Counts(spec.App)
	assert.False(t, exists)
	assert.Zero(t, machines+ips+e.sim.VolumeCount(spec.App))
	assert.Equal(t, 1, e.sim.Calls()["DELETE /v1/apps/{app}/machines/{id}"])
	assert.Positive(t, e.sim.Calls()["DELETE /v1/apps/{app}/volumes/{id}"], "refused (412) while the machine is destroying, then done")
	assert.Equal(t, 1, e.sim.Calls()["DELETE /v1/apps/{app}"])

	// Idempotent.
	require.NoError(t, deleteLaunch(waitCtx(t), l, res.Record))
	assert.Equal(t, 1, e.sim.Calls()["DELETE /v1/apps/{app}"])
}

func TestDeleteCancelsRunningDeploy(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	l := e.launcher(t)
	reached := make(chan struct{})
	var once sync.Once
	l.hook = func(ev Event) {
		if ev.Step == StepStarted {
			once.Do(func() { close(reached) })
		}
	}
	d, err := l.Start(waitCtx(t), testSpec("doomed-livebook"))
	require.NoError(t, err)
	<-reached
	require.NoError(t, deleteLaunch(waitCtx(t), l, d.Record()))
	_, err = d.Wait(waitCtx(t))
	require.ErrorIs(t, err, ErrCanceled)
	_, _, exists := e.sim.Counts("doomed-livebook")
	assert.False(t, exists)
}

func TestDeleteLeavesForeignApp(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	l := e.launcher(t)
	e.sim.ReserveName("foreign-livebook")
	rec := Record{LaunchID: strings.Repeat("cd", 16), App: "foreign-livebook", Org: DefaultOrg, Region: "ams"}
	require.NoError(t, deleteLaunch(waitCtx(t), l, rec))
	assert.Zero(t, e.sim.Calls()["DELETE /v1/apps/{app}"])
}

func TestCancelStopsPromptly(t *testing.T) {
	tests := []struct {
		name   string
		cancel func(l *Launcher, d *Deploy)
	}{
		{"Deploy.Cancel", func(_ *Launcher, d *Deploy) { d.Cancel() }},
		{"Launcher.Close", func(l *Launcher, _ *Deploy) { require.NoError(t, l.Close()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSimEnv(t, envOptions{speed: 1}) // realistic: the wait would take ~20 s
			l := e.launcher(t)
			inWait := make(chan struct{})
			var once sync.Once
			l.hook = func(ev Event) {
				if ev.Step == StepStarted {
					once.Do(func() { close(inWait) })
				}
			}
			d, err := l.Start(waitCtx(t), testSpec("cancel-livebook"))
			require.NoError(t, err)
			select {
			case <-inWait:
			case <-d.Done():
				_, err := d.Wait(waitCtx(t))
				require.FailNow(t, "the deploy ended before its wait", "%v", err)
			}
			tt.cancel(l, d)
			_, err = d.Wait(waitCtx(t)) // returns long before the machine starts
			require.ErrorIs(t, err, ErrCanceled)
			require.ErrorIs(t, err, context.Canceled)
			snap := d.Snapshot()
			assert.Equal(t, StatusCanceled, snap.Status)
			assert.True(t, snap.Final)
			assert.Equal(t, StepStarted, snap.Step)
			assert.Equal(t, StepLaunch, snap.Record.Step, "the record still resumes")

			_, err = l.Start(waitCtx(t), testSpec("other-livebook"))
			if tt.name == "Launcher.Close" {
				assert.ErrorIs(t, err, ErrClosed)
			} else {
				assert.NoError(t, err)
			}
		})
	}
}

func TestConcurrentResumesShareOneDriver(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	first := e.launcher(t)
	spec := testSpec("shared-livebook")
	// Get a record from a deploy interrupted after its IPs, as a restart would.
	stopped := make(chan struct{})
	first.hook = func(ev Event) {
		if ev.Step == StepIPs && ev.Status == StatusCompleted {
			e.gate.close(false)
			close(stopped)
		}
	}
	d0, err := first.Start(waitCtx(t), spec)
	require.NoError(t, err)
	<-stopped
	require.NoError(t, first.Close())
	rec := d0.Record()
	require.Equal(t, StepIPs, rec.Step)
	e.gate.open()

	l := e.launcher(t)
	const n = 4
	deploys := make([]*Deploy, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			d, err := l.Resume(context.Background(), spec, rec)
			assert.NoError(t, err)
			deploys[i] = d
		})
	}
	wg.Wait()
	for _, d := range deploys[1:] {
		require.Same(t, deploys[0], d, "one driver per launch ID")
	}
	evs := make([][]Event, n)
	for i := range n {
		wg.Go(func() { evs[i] = collect(t, deploys[i]) })
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		assert.Equal(t, evs[0], evs[i], "every resumer sees the same events")
	}
	_, err = deploys[0].Wait(waitCtx(t))
	require.NoError(t, err)
	assertOneOfEach(t, e, spec.App)
	assert.Equal(t, 1, e.sim.Calls()["POST /v1/apps/{app}/machines"])
}

func TestResumeRejectsMismatchedRecord(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	l := e.launcher(t)
	rec := Record{LaunchID: strings.Repeat("0f", 16), App: "one-livebook", Org: DefaultOrg, Region: "ams"}
	_, err := l.Resume(waitCtx(t), testSpec("two-livebook"), rec)
	require.ErrorIs(t, err, ErrRecordMismatch)
	bad := rec
	bad.LaunchID = "nope"
	_, err = l.Resume(waitCtx(t), testSpec("one-livebook"), bad)
	require.ErrorIs(t, err, ErrInvalidSpec)
	assert.Empty(t, e.sim.Calls())
}

func TestStartDeadline(t *testing.T) {
	e := newSimEnv(t, envOptions{speed: 1}) // the machine needs ~20 s to start
	l := e.launcher(t, func(o *Options) { o.StartDeadline = 50 * 1e6 })
	d, err := l.Start(waitCtx(t), testSpec("slow-livebook"))
	require.NoError(t, err)
	_, err = d.Wait(waitCtx(t))
	require.ErrorIs(t, err, ErrStartTimeout)
	assert.False(t, errors.Is(err, ErrCanceled))
	assert.Equal(t, StatusFailed, d.Snapshot().Status)
}

// TestBadToken: a 401 for a bad token is not mistaken for a taken name.
func TestBadToken(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	client, err := NewClient(t.Context(), "wrong-token", flysim.Transport(e.srv.URL, e.tr))
	require.NoError(t, err)
	l, err := New(Options{Client: client})
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	_, err = l.Start(waitCtx(t), testSpec("locked-livebook"))
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrNameTaken)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusUnauthorized, ae.Status)
	assert.NotContains(t, err.Error(), "wrong-token")
}

// TestCreateRejectedForOtherReasons: a 422 that is not about the name is
// reported as it is, not as ErrNameTaken.
func TestCreateRejectedForOtherReasons(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	e.sim.AddFault(flysim.Fault{Method: "POST", Path: "/v1/apps", Status: http.StatusUnprocessableEntity, Count: 1})
	l := e.launcher(t)
	d, err := l.Start(waitCtx(t), testSpec("picky-livebook"))
	require.NoError(t, err)
	_, err = d.Wait(waitCtx(t))
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrNameTaken)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusUnprocessableEntity, ae.Status)
	assert.NotEmpty(t, ae.RequestID)
}
