package flylaunch

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// launchToDone runs a deploy of spec to its end and returns its record.
func launchToDone(t *testing.T, e *simEnv, spec Spec) Record {
	t.Helper()
	l := e.launcher(t)
	d, err := l.Start(waitCtx(t), spec)
	require.NoError(t, err)
	res, err := d.Wait(waitCtx(t))
	require.NoError(t, err)
	require.NoError(t, l.Close())
	return res.Record
}

// addUserMachine launches a machine of the user's own into app, as a user
// would with flyctl: no launch ID in its metadata. It runs an image the
// realistic simulator boots (another would end launch_failed, then be
// destroyed by Fly itself).
func addUserMachine(t *testing.T, e *simEnv, app string) string {
	t.Helper()
	m, err := e.client.Launch(waitCtx(t), app, fly.LaunchMachineInput{
		Region: "ams",
		Config: &fly.MachineConfig{Image: DefaultImage, Metadata: map[string]string{"role": "mine"}},
	})
	require.NoError(t, err)
	require.True(t, machineExists(t, e, app, m.ID))
	return m.ID
}

// machineExists reports whether app has machine id, not destroyed, once
// Fly has had a propagation window to agree (a new machine answers 404
// for a moment).
func machineExists(t *testing.T, e *simEnv, app, id string) bool {
	t.Helper()
	window := time.Now().Add(time.Duration(float64(10*time.Second) / e.speed))
	for {
		m, err := e.client.Get(waitCtx(t), app, id)
		if statusOf(err) != 404 {
			require.NoError(t, err)
			return m.IsActive()
		}
		if time.Now().After(window) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
}

// callsSince returns the API calls made since before (a Calls snapshot).
func callsSince(e *simEnv, before map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range e.sim.Calls() {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// mutations counts the calls among calls that change anything at Fly.
func mutations(calls map[string]int) int {
	n := 0
	for k, v := range calls {
		if !strings.HasPrefix(k, "GET ") {
			n += v
		}
	}
	return n
}

// TestDeleteKeepsWhatTheLaunchDidNotCreate is finding 1 of the safe
// resume issue: Destroy (now Delete) removed the whole app, machines of the user's own
// included. It must remove only the machines carrying the launch ID, and
// keep the app (with a typed error saying why) while anything else lives
// in it.
func TestDeleteKeepsWhatTheLaunchDidNotCreate(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	spec := testSpec("shared-livebook")
	rec := launchToDone(t, e, spec)
	mine := addUserMachine(t, e, spec.App)

	l := e.launcher(t)
	err := deleteLaunch(waitCtx(t), l, rec)
	require.ErrorIs(t, err, ErrAppKept)
	assert.Contains(t, err.Error(), "1 machine")
	assert.True(t, machineExists(t, e, spec.App, mine), "the user's machine survives")
	assert.False(t, machineExists(t, e, spec.App, rec.MachineID), "the launch's machine is gone")
	assert.Zero(t, e.sim.VolumeCount(spec.App), "the launch's volume is gone")
	_, ips, exists := e.sim.Counts(spec.App)
	assert.True(t, exists, "the app survives")
	assert.Equal(t, 2, ips, "and so do its addresses, through which the user's machine is reached")
	assert.Zero(t, e.sim.Calls()["DELETE /v1/apps/{app}"])
	assert.Zero(t, e.sim.Calls()["DELETE /v1/apps/{app}/ip_assignments/{ip}"])
}

// TestDeleteTrustsOnlyFlyForOwnership gives Delete records that claim
// what Fly does not confirm: a machine ID of the user's own, and an app
// this launch did not create. Neither is touched.
func TestDeleteTrustsOnlyFlyForOwnership(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	spec := testSpec("claimed-livebook")
	rec := launchToDone(t, e, spec)
	mine := addUserMachine(t, e, spec.App)

	t.Run("machine ID of another", func(t *testing.T) {
		forged := rec
		forged.LaunchID = strings.Repeat("ab", 16)
		forged.MachineID = mine
		err := deleteLaunch(waitCtx(t), e.launcher(t), forged)
		require.ErrorIs(t, err, ErrAppKept)
		assert.True(t, machineExists(t, e, spec.App, mine))
		assert.True(t, machineExists(t, e, spec.App, rec.MachineID), "another launch's machine stays")
	})
	t.Run("app not created by the launch", func(t *testing.T) {
		_, err := e.client.CreateApp(waitCtx(t), flaps.CreateAppRequest{Name: "users-own-app", Org: DefaultOrg})
		require.NoError(t, err)
		require.NoError(t, e.client.WaitForApp(waitCtx(t), "users-own-app"))
		claim := Record{LaunchID: strings.Repeat("cd", 16), App: "users-own-app", Org: DefaultOrg, Region: "ams"}
		err = deleteLaunch(waitCtx(t), e.launcher(t), claim)
		require.ErrorIs(t, err, ErrAppKept)
		_, _, exists := e.sim.Counts("users-own-app")
		assert.True(t, exists)
	})
}

// TestResumeOfFinishedLaunchIsReadOnly is the data-loss sequence of
// finding 1 at flylaunch's level: a record of a launch that reached
// healthy reports Fly's current state and never creates, changes or
// destroys anything.
func TestResumeOfFinishedLaunchIsReadOnly(t *testing.T) {
	tests := []struct {
		name    string
		change  func(t *testing.T, e *simEnv, rec Record)
		wantErr error
	}{
		{"still healthy", func(*testing.T, *simEnv, Record) {}, nil},
		{"launch's machine deleted", func(t *testing.T, e *simEnv, rec Record) {
			require.NoError(t, e.client.Destroy(waitCtx(t), rec.App, fly.RemoveMachineInput{ID: rec.MachineID, Kill: true}, ""))
		}, ErrGone},
		{"app deleted", func(t *testing.T, e *simEnv, rec Record) {
			require.NoError(t, e.client.DeleteApp(waitCtx(t), rec.App))
		}, ErrGone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSimEnv(t, envOptions{})
			spec := testSpec("finished-livebook")
			rec := launchToDone(t, e, spec)
			mine := ""
			if tt.name != "app deleted" {
				mine = addUserMachine(t, e, spec.App)
			}
			tt.change(t, e, rec)
			before := e.sim.Calls()

			d, err := e.launcher(t).Resume(waitCtx(t), spec, rec)
			require.NoError(t, err)
			res, err := d.Wait(waitCtx(t))
			calls := callsSince(e, before)
			assert.Zero(t, mutations(calls), "read-only: %v", calls)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
				assert.Equal(t, "https://finished-livebook.fly.dev", res.URL)
				// Fly's proxy may have stopped it, idle, since.
				assert.Contains(t, []string{fly.MachineStateStarted, fly.MachineStateStopped}, res.MachineState)
			}
			if mine != "" {
				assert.True(t, machineExists(t, e, spec.App, mine), "the user's machine survives")
			}
		})
	}
}

// TestResumeNeverRecreates is finding 2: replaying an early record after
// the user deleted what the launch made re-created the app, IPs, secret and
// machine. A record before done continues only while what it says exists
// does exist.
func TestResumeNeverRecreates(t *testing.T) {
	for _, boundary := range []Step{"", StepCreateApp, StepSecrets, StepIPs, StepLaunch, StepStarted} {
		for _, gone := range []string{"app", "machine"} {
			if gone == "machine" && boundary.index() < StepLaunch.index() {
				continue
			}
			t.Run(string(boundary)+"/"+gone+" deleted", func(t *testing.T) {
				e := newSimEnv(t, envOptions{})
				spec := testSpec("deleted-livebook")
				// Before the first step, the app exists only if the
				// interrupted create was applied.
				early := interruptAt(t, e, spec, boundary, boundary == "")
				done := resumeToDone(t, e, spec, early)
				if gone == "app" {
					require.NoError(t, e.client.DeleteApp(waitCtx(t), spec.App))
				} else {
					require.NoError(t, e.client.Destroy(waitCtx(t), spec.App, fly.RemoveMachineInput{ID: done.MachineID, Kill: true}, ""))
				}
				before := e.sim.Calls()

				l := e.launcher(t)
				d, err := l.Resume(waitCtx(t), spec, early)
				require.NoError(t, err)
				_, err = d.Wait(waitCtx(t))
				require.ErrorIs(t, err, ErrGone)
				calls := callsSince(e, before)
				assert.Zero(t, mutations(calls), "nothing re-created: %v", calls)
			})
		}
	}
}

// resumeToDone finishes the deploy of rec on a fresh Launcher.
func resumeToDone(t *testing.T, e *simEnv, spec Spec, rec Record) Record {
	t.Helper()
	l := e.launcher(t)
	d, err := l.Resume(waitCtx(t), spec, rec)
	require.NoError(t, err)
	res, err := d.Wait(waitCtx(t))
	require.NoError(t, err)
	require.NoError(t, l.Close())
	return res.Record
}

// TestResumeNeverOverwritesSecrets is finding 2's regression: replaying a
// record from before the secrets step, with the password that blob held,
// re-set LIVEBOOK_PASSWORD (secrets version 2). An existing secret
// completes the step.
func TestResumeNeverOverwritesSecrets(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	spec := testSpec("kept-secret-livebook")
	early := interruptAt(t, e, spec, StepCreateApp, false)
	resumeToDone(t, e, spec, early)

	replay := spec
	replay.Secrets = Secrets{"LIVEBOOK_PASSWORD": "an-older-password-from-a-copied-blob"}
	before := e.sim.Calls()
	d, err := e.launcher(t).Resume(waitCtx(t), replay, early)
	require.NoError(t, err)
	_, err = d.Wait(waitCtx(t))
	require.NoError(t, err)
	assert.Zero(t, callsSince(e, before)["POST /v1/apps/{app}/secrets"], "the secret is not set again")
	assert.Equal(t, 200, login(t, e, spec.App, testPassword), "the first password still works")
	assertOneOfEach(t, e, spec.App)
}

// TestReplaysCostOneResume is finding 2's cost half: 200 concurrent
// replays of one blob in one process must make no more Fly API calls than
// one resume, and re-create nothing.
func TestReplaysCostOneResume(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	spec := testSpec("replayed-livebook")
	rec := launchToDone(t, e, spec)
	require.NoError(t, e.client.DeleteApp(waitCtx(t), spec.App))

	before := e.sim.Calls()
	d, err := e.launcher(t).Resume(waitCtx(t), spec, rec)
	require.NoError(t, err)
	_, err = d.Wait(waitCtx(t))
	require.ErrorIs(t, err, ErrGone)
	one := callsSince(e, before)
	require.NotEmpty(t, one)

	l := e.launcher(t)
	before = e.sim.Calls()
	var wg sync.WaitGroup
	errs := make([]error, 200)
	for i := range errs {
		wg.Go(func() {
			d, err := l.Resume(context.Background(), spec, rec)
			if err == nil {
				_, err = d.Wait(waitCtx(t))
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.ErrorIs(t, err, ErrGone)
	}
	all := callsSince(e, before)
	total := func(m map[string]int) int {
		n := 0
		for v := range maps.Values(m) {
			n += v
		}
		return n
	}
	assert.LessOrEqual(t, total(all), total(one), "200 replays: %v, one resume: %v", all, one)
	assert.Zero(t, mutations(all))
	_, _, exists := e.sim.Counts(spec.App)
	assert.False(t, exists, "the deleted app is not re-created")
}

// TestTwoLaunchesOfOneNameNeverShareAnApp starts two deploys of one name
// in one org at once, past Start's name check (as two users, or two
// instances, racing would): the second create is refused, and that deploy
// must fail with ErrNameTaken rather than adopt the winner's app (and set
// its own password and machine in it).
func TestTwoLaunchesOfOneNameNeverShareAnApp(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	l := e.launcher(t)
	spec := testSpec("contested-livebook")
	first, err := l.Start(waitCtx(t), spec)
	require.NoError(t, err)
	_, err = first.Wait(waitCtx(t))
	require.NoError(t, err)

	// The loser passed Start's check before the winner created the app.
	l.mu.Lock()
	second := l.spawn(spec.withDefaults(), Record{LaunchID: strings.Repeat("ef", 16), App: spec.App, Org: DefaultOrg, Region: "ams"}, false)
	l.mu.Unlock()
	_, err = second.Wait(waitCtx(t))
	require.ErrorIs(t, err, ErrNameTaken)
	assertOneOfEach(t, e, spec.App)
	assert.Equal(t, 1, e.sim.Calls()["POST /v1/apps/{app}/secrets"], "the winner's password stands")
}

// TestAttach shows which deploys answer Attach: running ones, and ended
// ones for a minute if they succeeded or found their app gone.
func TestAttach(t *testing.T) {
	e := newSimEnv(t, envOptions{})
	l := e.launcher(t)
	spec := testSpec("attached-livebook")
	d, err := l.Start(waitCtx(t), spec)
	require.NoError(t, err)
	got, ok := l.Attach(d.LaunchID())
	if ok { // it may have ended already; then it is remembered below
		assert.Same(t, d, got)
	}
	_, err = d.Wait(waitCtx(t))
	require.NoError(t, err)
	got, ok = l.Attach(d.LaunchID())
	require.True(t, ok, "a succeeded deploy is remembered")
	assert.Same(t, d, got)
	_, ok = l.Attach(strings.Repeat("0", 32))
	assert.False(t, ok)
}

func TestEndedDeploysBounded(t *testing.T) {
	var e endedDeploys
	e.byID = map[string]endedDeploy{}
	t0 := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	deps := make([]*Deploy, maxEnded+10)
	for i := range deps {
		deps[i] = &Deploy{}
		e.add(fmt.Sprint(i), deps[i], t0)
	}
	assert.LessOrEqual(t, len(e.byID), maxEnded)
	assert.Nil(t, e.get("0", t0), "the oldest is forgotten first")
	assert.Same(t, deps[len(deps)-1], e.get(fmt.Sprint(len(deps)-1), t0))
	assert.Nil(t, e.get(fmt.Sprint(len(deps)-1), t0.Add(endedTTL)), "and every entry after its TTL")

	e.add("again", deps[0], t0)
	e.add("again", deps[1], t0.Add(time.Second))
	e.add("later", deps[2], t0.Add(endedTTL+time.Millisecond)) // expires the first "again" entry only
	assert.Same(t, deps[1], e.get("again", t0.Add(endedTTL)))
	assert.LessOrEqual(t, len(e.order), maxEnded+1)
}
