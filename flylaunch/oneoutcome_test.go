package flylaunch

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"

	"github.com/sealkit/sealkit/flylaunch/flysim"
)

// firstCall runs before on the first request that match accepts, then
// sends it on: it plays another process acting on the launch in the
// moment between this driver's look and its act.
type firstCall struct {
	next   http.RoundTripper
	match  func(*http.Request) bool
	before func()
	once   sync.Once
}

func (f *firstCall) RoundTrip(req *http.Request) (*http.Response, error) {
	if f.match(req) {
		f.once.Do(f.before)
	}
	return f.next.RoundTrip(req)
}

// clientVia returns a fly-go client of e's simulator whose requests pass
// through wrap.
func clientVia(t *testing.T, e *simEnv, wrap func(http.RoundTripper) http.RoundTripper) *flaps.Client {
	t.Helper()
	c, err := NewClient(context.Background(), testToken, wrap(flysim.Transport(e.srv.URL, e.tr)))
	require.NoError(t, err)
	return c
}

// TestSharedAddressAssignedMeanwhile is defect 2 of the multi-instance
// issue: a second driver of one launch listed the app's addresses, the
// first assigned the shared IPv4, and the second's own assign got Fly's
// 422 "app already has a shared IPv4 address", which failed its launch
// (and its clean-up then deleted the first one's Livebook). What the step
// asks for exists: that is success.
func TestSharedAddressAssignedMeanwhile(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	spec := testSpec("raced-address")
	ft := &firstCall{
		match: func(r *http.Request) bool {
			return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/ip_assignments") && r.ContentLength > 0 && bodyHas(r, "shared_v4")
		},
		before: func() {
			_, err := e.client.AssignIP(context.Background(), spec.App, flaps.AssignIPRequest{Type: "shared_v4"})
			assert.NoError(t, err)
		},
	}
	c := clientVia(t, e, func(next http.RoundTripper) http.RoundTripper { ft.next = next; return ft })
	l := e.launcher(t, func(o *Options) { o.Client = c })
	d, err := l.Start(waitCtx(t), spec)
	require.NoError(t, err)
	_, err = d.Wait(waitCtx(t))
	require.NoError(t, err)
	// The driver's v6, its refused shared v4, and the other process's.
	assert.Equal(t, 3, e.sim.Calls()["POST /v1/apps/{app}/ip_assignments"])
	assertOneOfEach(t, e, spec.App)
}

// bodyHas reports whether r's body contains s, leaving the body readable.
func bodyHas(r *http.Request, s string) bool {
	if r.GetBody == nil {
		return false
	}
	b, err := r.GetBody()
	if err != nil {
		return false
	}
	defer b.Close()
	buf := new(strings.Builder)
	_, _ = io.Copy(buf, b)
	return strings.Contains(buf.String(), s)
}

// TestTwoProcessesDriveOneLaunch is the two-tab visitor: one record
// handed to two Launchers at once (two instances of a web app, each
// reached by one tab). Both deploys end well, on one machine and one
// volume, and the clean-up a failed attempt would schedule (Abandon)
// refuses to touch the launch that succeeded.
func TestTwoProcessesDriveOneLaunch(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	spec := testSpec("two-tab-livebook")
	rec := interruptAt(t, e, spec, StepSecrets, false)

	a, b := e.launcher(t), e.launcher(t)
	var wg sync.WaitGroup
	results := make([]Result, 2)
	for i, l := range []*Launcher{a, b} {
		wg.Go(func() {
			d, err := l.Resume(context.Background(), spec, rec)
			if !assert.NoError(t, err) {
				return
			}
			results[i], err = d.Wait(waitCtx(t))
			assert.NoError(t, err, "both tabs end done")
		})
	}
	wg.Wait()
	require.Equal(t, results[0].Record.MachineID, results[1].Record.MachineID, "one machine")
	require.Equal(t, results[0].Record.VolumeID, results[1].Record.VolumeID, "one volume")
	assertOneOfEach(t, e, spec.App)

	lb, err := a.Livebook(rec)
	require.NoError(t, err)
	require.ErrorIs(t, lb.Abandon(waitCtx(t)), ErrInUse)
	assertOneOfEach(t, e, spec.App)
}

// TestAbandonWaitsForAnotherDriver: while another process drives the launch
// (its machine not created yet), Abandon sees Fly's state of the launch
// change and refuses: a failed attempt never undoes a launch under way.
func TestAbandonWaitsForAnotherDriver(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	spec := testSpec("driven-elsewhere")
	rec := interruptAt(t, e, spec, StepIPs, false)

	cleaner := e.launcher(t)
	lb, err := cleaner.Livebook(rec)
	require.NoError(t, err)
	abandoned := make(chan error, 1)
	go func() { abandoned <- lb.Abandon(waitCtx(t)) }()

	d, err := e.launcher(t).Resume(waitCtx(t), spec, rec)
	require.NoError(t, err)
	_, err = d.Wait(waitCtx(t))
	require.NoError(t, err)
	require.ErrorIs(t, <-abandoned, ErrInUse)
	assertOneOfEach(t, e, spec.App)
}

// TestAbandonRemovesAFailedLaunch: a launch whose machine failed, with no
// one else driving it, is cleaned up: machine, volume and app go.
func TestAbandonRemovesAFailedLaunch(t *testing.T) {
	e := newSimEnv(t, envOptions{speed: 100, profile: flysim.Realistic()})
	spec := testSpec("failed-livebook")
	spec.Image = "registry.example/not-livebook:1"
	l := e.launcher(t)
	d, err := l.Start(waitCtx(t), spec)
	require.NoError(t, err)
	res, err := d.Wait(waitCtx(t))
	require.ErrorIs(t, err, ErrMachineFailed)
	lb, err := l.Livebook(d.Record())
	require.NoError(t, err)
	require.NoError(t, lb.Abandon(waitCtx(t)))
	_, err = e.client.GetApp(waitCtx(t), spec.App)
	assert.Equal(t, http.StatusNotFound, statusOf(err), "the failed launch's app is gone")
	_ = res
}

// TestDeleteSparesTheAppThatTookTheName is defect 4: launch, delete it,
// keep the record (a manage link); the name is created again in the org
// with a volume and no machine. The old record's Delete must not touch
// it: it names the app by Fly's ID.
func TestDeleteSparesTheAppThatTookTheName(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	spec := testSpec("reused-name")
	rec := launchToDone(t, e, spec)
	require.NotEmpty(t, rec.AppID)
	l := e.launcher(t)
	lb, err := l.Livebook(rec)
	require.NoError(t, err)
	require.NoError(t, lb.Delete(waitCtx(t)))

	app, err := e.client.CreateApp(waitCtx(t), flaps.CreateAppRequest{Name: spec.App, Org: "personal"})
	require.NoError(t, err)
	require.NotEqual(t, rec.AppID, app.ID)
	var vol *fly.Volume
	for try := 0; try < 1000 && (try == 0 || notVisibleYet(err) || statusOf(err) == http.StatusTooManyRequests); try++ {
		if try > 0 {
			time.Sleep(5 * time.Millisecond) // Fly allows a create a (simulated) second
		}
		vol, err = e.client.CreateVolume(waitCtx(t), spec.App, fly.CreateVolumeRequest{Name: volumeName(spec.App), Region: "ams", SizeGb: ptr(1)})
	} // a new app answers 404 (or 401) until Fly has caught up
	require.NoError(t, err)
	for try := 0; try < 1000; try++ {
		if _, err = e.client.GetVolume(waitCtx(t), spec.App, vol.ID); statusOf(err) != http.StatusNotFound && statusOf(err) != http.StatusTooManyRequests {
			break
		}
		time.Sleep(time.Millisecond)
	} // so does a new volume
	before := e.sim.Calls()

	for _, op := range []struct {
		name string
		do   func() error
	}{
		{"delete", func() error { return lb.Delete(waitCtx(t)) }},
		{"abandon", func() error { return lb.Abandon(waitCtx(t)) }},
	} {
		t.Run(op.name, func(t *testing.T) {
			err := op.do()
			if op.name == "delete" {
				require.ErrorIs(t, err, ErrGone)
				assert.Contains(t, err.Error(), "not the launch's")
			}
			got, err := e.client.GetApp(waitCtx(t), spec.App)
			require.NoError(t, err, "the new app survives")
			assert.Equal(t, app.ID, got.ID)
			_, err = e.client.GetVolume(waitCtx(t), spec.App, vol.ID)
			require.NoError(t, err, "its volume survives")
		})
	}
	assert.Zero(t, mutations(callsSince(e, before)))
}

// TestReplayedRecordOfFinishedLaunchOnlyReports is defect 5 at flylaunch's
// level: the launch's first record, handed back after the launch finished
// (and its machine was stopped by its owner), is resumed as a report:
// nothing is started or changed, and Result.Reported says that whatever
// a launch hands out once was handed out already.
func TestReplayedRecordOfFinishedLaunchOnlyReports(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	spec := testSpec("replayed-record")
	first := interruptAt(t, e, spec, StepCreateApp, false)
	done := resumeToDone(t, e, spec, first)
	require.NoError(t, e.client.Stop(waitCtx(t), spec.App, fly.StopMachineInput{ID: done.MachineID}, ""))
	before := e.sim.Calls()

	d, err := e.launcher(t).Resume(waitCtx(t), spec, first)
	require.NoError(t, err)
	res, err := d.Wait(waitCtx(t))
	require.NoError(t, err)
	assert.True(t, res.Reported)
	assert.Zero(t, mutations(callsSince(e, before)), "nothing started or changed: %v", callsSince(e, before))
}

// TestStatusUnknownWhenFlyCannotBeRead is defect 6 at flylaunch's level: a
// failed read is not a gone Livebook.
func TestStatusUnknownWhenFlyCannotBeRead(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	spec := testSpec("unreadable")
	rec := launchToDone(t, e, spec)
	l := e.launcher(t, func(o *Options) { o.Retry.MaxAttempts = 2 })
	lb, err := l.Livebook(rec)
	require.NoError(t, err)
	e.gate.close(false)
	defer e.gate.open()
	st, err := lb.Status(waitCtx(t))
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrGone)
	assert.Equal(t, StateUnknown, st.State)
	st, err = lb.Stop(waitCtx(t))
	require.Error(t, err)
	assert.Equal(t, StateUnknown, st.State)
}

// TestResumedTwinYieldsToTheDoneMachine: a second tab's driver, killed by
// a restart after it had launched its own machine of the launch (a twin
// of the one the first tab's driver made healthy), is resumed from its
// last record, which names its twin. It must look for the launch's other
// machine: the one marked done stays (a page shows it), the twin goes,
// and the resume only reports. Before, it drove its twin to healthy and
// the launch kept two machines and two volumes.
func TestResumedTwinYieldsToTheDoneMachine(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	spec := testSpec("twin-livebook").withDefaults()
	rec := interruptAt(t, e, spec, StepIPs, false)
	done := resumeToDone(t, e, spec, rec)

	// The other driver's twin: its own volume, and a machine carrying the
	// launch ID on it, as launchMachine makes one.
	guest, err := spec.guest()
	require.NoError(t, err)
	var vol *fly.Volume
	require.NoError(t, untilSeen(func() (err error) {
		vol, err = e.client.CreateVolume(waitCtx(t), spec.App, fly.CreateVolumeRequest{
			Name: volumeName(spec.App), Region: spec.Region, SizeGb: ptr(1),
			ComputeRequirements: guest, ComputeImage: spec.Image, // placed where the machine fits, as flylaunch does
		})
		return err
	}))
	in, err := launchInput(spec, rec.LaunchID, done.SecretsVersion, vol.ID)
	require.NoError(t, err)
	in.Name += "-twin" // a lagging list let the same name through; any name will do here
	twin, err := e.client.Launch(waitCtx(t), spec.App, in)
	require.NoError(t, err)
	require.NoError(t, untilSeen(func() error { _, err := e.client.Get(waitCtx(t), spec.App, twin.ID); return err }))
	twinRec := rec
	twinRec.Step, twinRec.MachineID, twinRec.VolumeID = StepLaunch, twin.ID, vol.ID

	d, err := e.launcher(t).Resume(waitCtx(t), spec, twinRec)
	require.NoError(t, err)
	res, err := d.Wait(waitCtx(t))
	require.NoError(t, err)
	assert.Equal(t, done.MachineID, res.Record.MachineID, "the machine a page shows done is kept")
	assert.True(t, res.Reported, "the launch had finished: the twin's page only reports it")
	assert.False(t, machineExists(t, e, spec.App, twin.ID), "the twin is gone")
	assertOneOfEach(t, e, spec.App)
}

// untilSeen repeats fn while Fly answers as for a resource it has not
// caught up with (404, 401) or rate-limits it (429), a bounded number of
// times, and returns its last error.
func untilSeen(fn func() error) error {
	var err error
	for range 2000 {
		if err = fn(); !notVisibleYet(err) && statusOf(err) != http.StatusTooManyRequests {
			return err
		}
		time.Sleep(5 * time.Millisecond)
	}
	return err
}
